"""Where sessions live: one store per ``cacheProviderType`` the stand-in supports.

Gluu keeps sessions in the cache ``oxCacheConfiguration`` names; the lab tests that
a switch between providers (and the Redis/stunnel/twemproxy chain behind REDIS)
works end to end, so each store writes what its Gluu counterpart would: LDAP
entries under ``ou=cache``, ``session_<id>`` keys in Redis, or this process only.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .ldap import Ldap, LdapError
from .ldif import ldif_attr
from .resp import RedisError, Resp
from .secret import decode_secret


class CacheUnavailable(Exception):
    """The configured cache cannot store or read sessions right now."""


class SessionStore(Protocol):
    provider: str
    #: Seconds a stored session lives (the provider's ``defaultPutExpiration``).
    ttl: int

    def save(self, session: Mapping[str, Any]) -> None: ...

    def load(self, session_id: str) -> dict[str, Any] | None: ...


def _section(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = config.get(name)
    return value if isinstance(value, Mapping) else {}


def _ttl(section: Mapping[str, Any]) -> int:
    value = section.get("defaultPutExpiration")
    return value if isinstance(value, int) and value > 0 else 60


def _gtime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


class NativePersistenceStore:
    """Sessions as ``uuid=<id>,ou=cache,<suffix>`` entries (objectClass cache) in LDAP."""

    provider = "NATIVE_PERSISTENCE"

    def __init__(self, ldap: Ldap, suffix: str, config: Mapping[str, Any]) -> None:
        self._ldap = ldap
        self.base = f"ou=cache,{suffix}"
        self.ttl = _ttl(_section(config, "nativePersistenceConfiguration"))

    def save(self, session: Mapping[str, Any]) -> None:
        now = datetime.now(UTC)
        lines = [
            ldif_attr("dn", f"uuid={session['session_id']},{self.base}"),
            "objectClass: top",
            "objectClass: cache",
            ldif_attr("uuid", session["session_id"]),
            ldif_attr("dat", json.dumps(session, sort_keys=True)),
            f"iat: {_gtime(now)}",
            f"exp: {_gtime(now + timedelta(seconds=self.ttl))}",
            "del: TRUE",
        ]
        try:
            self._ldap.add("\n".join(lines) + "\n")
        except LdapError as exc:
            raise CacheUnavailable(f"LDAP cache: {exc}") from exc

    def load(self, session_id: str) -> dict[str, Any] | None:
        try:
            found = self._ldap.search(
                f"uuid={session_id},{self.base}", "base", "(objectClass=cache)", ["dat", "exp"]
            )
        except LdapError as exc:
            raise CacheUnavailable(f"LDAP cache: {exc}") from exc
        if not found or _expired(found[0].first("exp")):
            return None
        data = found[0].first("dat")
        return json.loads(data) if data else None


def _expired(gtime: str | None) -> bool:
    try:
        moment = datetime.strptime((gtime or "")[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return True
    return moment <= datetime.now(UTC)


class RedisStore:
    """Sessions as ``session_<id>`` keys in the first reachable server of ``servers``."""

    provider = "REDIS"

    def __init__(self, config: Mapping[str, Any]) -> None:
        redis = _section(config, "redisConfiguration")
        self.ttl = _ttl(redis)
        self.servers = [s for s in re.split(r"[,\s]+", str(redis.get("servers", ""))) if s]
        encoded = redis.get("password")
        self._password = decode_secret(encoded) if isinstance(encoded, str) and encoded else None
        timeout = redis.get("connectionTimeout")
        self._timeout = timeout / 1000 if isinstance(timeout, int) and timeout > 0 else 3.0
        self._tls: ssl.SSLContext | None = None
        if redis.get("useSSL") is True:
            self._tls = ssl.create_default_context(
                cafile=redis.get("sslTrustStoreFilePath") or None
            )

    def save(self, session: Mapping[str, Any]) -> None:
        value = json.dumps(session, sort_keys=True)
        self._call("SET", f"session_{session['session_id']}", value, "EX", self.ttl)

    def load(self, session_id: str) -> dict[str, Any] | None:
        value = self._call("GET", f"session_{session_id}")
        return json.loads(value) if isinstance(value, str) else None

    def _call(self, *command: str | int) -> Any:
        failures: list[str] = []
        for server in self.servers:
            host, _, port = server.rpartition(":")
            try:
                conn = Resp.connect(
                    host or server, int(port or 6379), timeout=self._timeout, tls=self._tls
                )
                with conn:
                    if self._password is not None:
                        conn.call("AUTH", self._password)
                    return conn.call(*command)
            except (RedisError, ValueError) as exc:
                failures.append(f"{server}: {exc}")
        raise CacheUnavailable("Redis: " + ("; ".join(failures) or "no servers configured"))


class InMemoryStore:
    """IN_MEMORY: sessions in this process only, so other nodes never see them (as in Gluu)."""

    provider = "IN_MEMORY"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.ttl = _ttl(_section(config, "inMemoryConfiguration"))
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def save(self, session: Mapping[str, Any]) -> None:
        with self._lock:
            self._items[session["session_id"]] = (time.monotonic() + self.ttl, dict(session))

    def load(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            deadline, session = self._items.get(session_id, (0.0, {}))
        return session if deadline > time.monotonic() else None


def make_store(config: Mapping[str, Any], ldap: Ldap, suffix: str) -> SessionStore:
    """The store ``cacheProviderType`` names; ValueError for anything the stand-in lacks."""
    provider = config.get("cacheProviderType")
    if provider == "NATIVE_PERSISTENCE":
        return NativePersistenceStore(ldap, suffix, config)
    if provider == "REDIS":
        return RedisStore(config)
    if provider == "IN_MEMORY":
        return InMemoryStore(config)
    raise ValueError(f"cache provider {provider!r} is not supported by the lab stand-in")


def describe(store: SessionStore) -> str:
    if isinstance(store, RedisStore):
        return f"REDIS (servers: {','.join(store.servers)})"
    if isinstance(store, NativePersistenceStore):
        return f"NATIVE_PERSISTENCE (baseDn: {store.base})"
    return store.provider
