"""The cache service: the session store ``oxCacheConfiguration`` names right now.

Operators and the manager switch a cluster's cache by changing one attribute in
LDAP; oxAuth follows without a restart.  The stand-in does the same, so the lab
can test a switch (and a directory outage during one) end to end.
"""

from __future__ import annotations

import json
import threading
import time

from .ldap import Ldap, LdapError
from .logs import cache_log
from .stores import CacheUnavailable, SessionStore, describe, make_store

#: The cache configuration is re-read at most this often (seconds).  A time to
#: live rather than an ``oxRevision`` comparison, because tools (the original
#: Cluster Manager among them) change ``oxCacheConfiguration`` without raising
#: ``oxRevision``; one ``ldapsearch`` a second is cheap.
CONFIG_TTL = 1.0


class CacheService:
    """The store ``oxCacheConfiguration`` currently names, re-read every CONFIG_TTL seconds.

    When the directory cannot be read, the last known store stays in use (as
    oxAuth keeps its loaded configuration), so a Redis cache keeps serving lookups.
    """

    def __init__(self, ldap: Ldap, suffix: str, ttl: float = CONFIG_TTL) -> None:
        self._ldap, self._suffix, self._ttl = ldap, suffix, ttl
        self._lock = threading.Lock()
        self._raw: str | None = None
        self._store: SessionStore | None = None
        self._read_at = -float("inf")

    def store(self) -> SessionStore:
        with self._lock:
            if time.monotonic() - self._read_at >= self._ttl:
                self._read_at = time.monotonic()
                self._refresh()
            if self._store is None:
                raise CacheUnavailable("no usable cache configuration")
            return self._store

    def _refresh(self) -> None:
        dn = f"ou=configuration,{self._suffix}"
        try:
            found = self._ldap.search(dn, "base", "(objectClass=*)", ["oxCacheConfiguration"])
        except LdapError as exc:
            cache_log.warning("Failed to reload cache configuration from %s: %s", dn, exc)
            return
        raw = found[0].first("oxCacheConfiguration") if found else None
        if raw is None or raw == self._raw:
            return
        self._raw = raw
        try:
            config = json.loads(raw)
            store = make_store(config if isinstance(config, dict) else {}, self._ldap, self._suffix)
        except ValueError as exc:
            cache_log.error("Invalid oxCacheConfiguration, keeping the previous provider: %s", exc)
            return
        before, self._store = self._store, store
        if before is None:
            cache_log.info("Created cache provider %s", describe(store))
        else:
            cache_log.info("Cache provider changed: %s -> %s", describe(before), describe(store))
