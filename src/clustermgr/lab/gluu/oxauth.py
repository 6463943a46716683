"""A stand-in for Gluu's oxAuth, used only by clustermgr's lab and its tests.

Lab identity nodes must look like Gluu nodes from the outside without a JVM and
a 300 MB war: this one file answers the endpoints clustermgr and the load
balancer use (discovery, health-check), logs in users against the node's LDAP
and keeps their sessions in the cache that ``oxCacheConfiguration`` names, so
replication, the Redis/stunnel/twemproxy chain and cache switches can be tested
end to end.  It is not an OpenID provider: no tokens, no clients, no consent.

It runs with Debian's ``/usr/bin/python3`` and nothing else: the standard
library, the ldap-utils commands (``ldapsearch``, ``ldapadd``, ``ldapwhoami``)
and a few lines of RESP for Redis.  Passwords reach the LDAP tools through a
pipe (``-y /dev/fd/N``), never on a command line or on disk.

Run ``python3 oxauth.py --help``; ``init_script()`` renders ``/etc/init.d/oxauth``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
import logging
import logging.handlers
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlsplit

# --- Layout: the one place for an identity node's paths ------------------------------

OX_LDAP_PROPERTIES = "/etc/gluu/conf/ox-ldap.properties"
OXAUTH_LOG_DIR = "/opt/gluu/jetty/oxauth/logs"
OXAUTH_LOG = "oxauth.log"
OXAUTH_AUDIT_LOG = "oxauth_audit.log"
#: Where the lab installs this file on a host.
OXAUTH_APP = "/opt/gluu/jetty/oxauth/lab/oxauth.py"
OXAUTH_INIT_SCRIPT = "/etc/init.d/oxauth"
#: Sourced by the init script: ``OXAUTH_OPTS="--port 8443 ..."``.
OXAUTH_DEFAULTS = "/etc/default/oxauth"
OXAUTH_PIDFILE = "/run/oxauth.pid"
#: The HTTPS certificate and key Gluu's web front end uses.
HTTPD_CERT = "/etc/certs/httpd.crt"
HTTPD_KEY = "/etc/certs/httpd.key"
SUFFIX = "o=gluu"
DEFAULT_PYTHON = "/usr/bin/python3"

#: How Gluu's encoded secrets (``bindPassword`` in ox-ldap.properties, Redis's
#: ``password`` in oxCacheConfiguration) are encoded.  Real Gluu encrypts them with
#: the node's salt (``/etc/gluu/conf/salt``); the lab's convention is plain base64 of
#: the UTF-8 text: it keeps secrets out of casual view, it does not protect them.
SECRET_ENCODING = "base64"  # noqa: S105 (a name, not a password)

#: The cache configuration is re-read at most this often (seconds).  A time to
#: live rather than an ``oxRevision`` comparison, because tools (the original
#: Cluster Manager among them) change ``oxCacheConfiguration`` without raising
#: ``oxRevision``; one ``ldapsearch`` a second is cheap.
CONFIG_TTL = 1.0
LDAP_TIMEOUT = 5.0
LDAP_NET_TIMEOUT = 3
HANDSHAKE_TIMEOUT = 10.0
MAX_BODY = 64 * 1024

log = logging.getLogger("org.gluu.oxauth.service.AppInitializer")
cache_log = logging.getLogger("org.gluu.service.cache.CacheService")
auth_log = logging.getLogger("org.gluu.oxauth.auth.Authenticator")
ldap_log = logging.getLogger("org.gluu.persist.ldap.operation.LdapOperationService")
http_log = logging.getLogger("org.eclipse.jetty.server.RequestLog")
audit_log = logging.getLogger("org.gluu.oxauth.audit.ApplicationAuditLogger")


def encode_secret(plain: str) -> str:
    """Encode a secret the way the lab's ox-ldap.properties stores it (see SECRET_ENCODING)."""
    return base64.b64encode(plain.encode()).decode("ascii")


def decode_secret(encoded: str) -> str:
    """Inverse of :func:`encode_secret`; ValueError if ``encoded`` is not base64."""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a base64-encoded secret") from exc


# --- ox-ldap.properties and LDIF -----------------------------------------------------


def parse_properties(text: str) -> dict[str, str]:
    """Gluu's properties files mix ``key: value`` and ``key=value``; the first separator wins."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find(":"), line.find("=")) if i >= 0), default=-1)
        if cut > 0:
            props[line[:cut].strip()] = line[cut + 1 :].strip()
    return props


def ldif_attr(name: str, value: str) -> str:
    """One LDIF line; base64 (``name:: ...``) when RFC 2849 does not allow the value raw."""
    unsafe = (
        value[:1] in (" ", ":", "<")
        or value.endswith(" ")
        or any(c in "\0\r\n" or ord(c) > 126 for c in value)
    )
    if unsafe:
        return f"{name}:: {base64.b64encode(value.encode()).decode('ascii')}"
    return f"{name}: {value}"


@dataclass(frozen=True)
class Entry:
    dn: str
    #: Attribute names lower-cased.
    attrs: dict[str, list[str]]

    def first(self, name: str) -> str | None:
        values = self.attrs.get(name.lower())
        return values[0] if values else None


def parse_ldif(text: str) -> list[Entry]:
    """Entries of ``ldapsearch -LLL`` output (or any LDIF without change records)."""
    entries: list[Entry] = []
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        elif not raw.startswith("#"):
            lines.append(raw)
    dn: str | None = None
    attrs: dict[str, list[str]] = {}
    for line in [*lines, ""]:
        if not line.strip():
            if dn is not None:
                entries.append(Entry(dn, attrs))
            dn, attrs = None, {}
            continue
        name, _, rest = line.partition(":")
        value = (
            base64.b64decode(rest[1:].strip()).decode() if rest.startswith(":") else rest.strip()
        )
        if name.lower() == "dn":
            dn = value
        else:
            attrs.setdefault(name.lower(), []).append(value)
    return entries


def escape_filter(value: str) -> str:
    """Escape a value for an LDAP search filter (RFC 4515)."""
    return "".join(f"\\{ord(c):02x}" if c in "*()\\\0" else c for c in value)


# --- LDAP through ldap-utils ---------------------------------------------------------


class LdapError(Exception):
    """An ldap-utils command failed; ``code`` is its exit status (an LDAP result code)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"LDAP error {code}: {detail}")
        self.code = code


INVALID_CREDENTIALS = 49
NO_SUCH_OBJECT = 32


@dataclass(frozen=True)
class LdapSettings:
    """What ox-ldap.properties says: where the directory is and who to bind as."""

    uris: tuple[str, ...]
    bind_dn: str
    bind_password: str = field(repr=False)
    #: PEM CA for ldaps (the stand-in reads ``ssl.trustStoreFile`` as PEM, not PKCS#12).
    ca_file: str | None = None

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> LdapSettings:
        missing = [k for k in ("bindDN", "bindPassword", "servers") if not props.get(k)]
        if missing:
            raise ValueError(f"ox-ldap.properties lacks {', '.join(missing)}")
        scheme = "ldaps" if props.get("useSSL", "false").lower() == "true" else "ldap"
        servers = [s for s in re.split(r"[,\s]+", props["servers"]) if s]
        return cls(
            uris=tuple(f"{scheme}://{server}" for server in servers),
            bind_dn=props["bindDN"],
            bind_password=decode_secret(props["bindPassword"]),
            ca_file=props.get("ssl.trustStoreFile") or None,
        )


class Ldap:
    """The node's directory, one ldap-utils process per operation.

    ``-H`` lists every server of ox-ldap.properties, so the tools fail over in
    order as Gluu's connection pool does.  The bind password goes through a pipe.
    """

    def __init__(self, settings: LdapSettings, timeout: float = LDAP_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._env = dict(os.environ)
        if settings.ca_file:
            self._env.update(LDAPTLS_CACERT=settings.ca_file, LDAPTLS_REQCERT="demand")

    def search(self, base: str, scope: str, filterstr: str, attrs: Sequence[str]) -> list[Entry]:
        args = ["-LLL", "-o", "ldif-wrap=no", "-b", base, "-s", scope, filterstr, *attrs]
        done = self._run("ldapsearch", args)
        if done.returncode == NO_SUCH_OBJECT:
            return []
        self._check(done)
        return parse_ldif(done.stdout)

    def add(self, ldif: str) -> None:
        self._check(self._run("ldapadd", [], stdin=ldif))

    def credentials_valid(self, dn: str, password: str) -> bool:
        """Bind as ``dn``: True if accepted, False if refused (49); LdapError otherwise."""
        if not password:
            return False  # an empty password is an unauthenticated bind, never a login
        done = self._run("ldapwhoami", [], identity=(dn, password))
        if done.returncode == INVALID_CREDENTIALS:
            return False
        self._check(done)
        return True

    def _run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        identity: tuple[str, str] | None = None,
        stdin: str = "",
    ) -> subprocess.CompletedProcess[str]:
        dn, password = identity or (self.settings.bind_dn, self.settings.bind_password)
        read_fd, write_fd = os.pipe()
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(password.encode())  # far below the pipe buffer: cannot block
            argv = [tool, "-x", "-H", " ".join(self.settings.uris)]
            argv += ["-o", f"nettimeout={LDAP_NET_TIMEOUT}", "-D", dn, "-y", f"/dev/fd/{read_fd}"]
            return subprocess.run(
                [*argv, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                pass_fds=(read_fd,),
                env=self._env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LdapError(-1, f"{tool} timed out after {self.timeout}s") from exc
        except OSError as exc:
            raise LdapError(-1, f"{tool}: {exc}") from exc
        finally:
            os.close(read_fd)

    @staticmethod
    def _check(done: subprocess.CompletedProcess[str]) -> None:
        if done.returncode != 0:
            detail = " ".join(done.stderr.split())[:300] or "no message"
            raise LdapError(done.returncode, detail)


# --- Redis (RESP) --------------------------------------------------------------------


class RedisError(Exception):
    """Redis answered with an error, or could not be reached."""


class Resp:
    """A minimal RESP2 client: one connection, one command at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")

    @classmethod
    def connect(
        cls, host: str, port: int, *, timeout: float, tls: ssl.SSLContext | None = None
    ) -> Resp:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise RedisError(f"cannot reach {host}:{port}: {exc}") from exc
        if tls is None:
            return cls(sock)
        try:
            return cls(tls.wrap_socket(sock, server_hostname=host))
        except OSError as exc:
            sock.close()
            raise RedisError(f"TLS with {host}:{port} failed: {exc}") from exc

    def __enter__(self) -> Resp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def call(self, *args: str | int) -> Any:
        parts = [str(a).encode() for a in args]
        frame = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        try:
            self._sock.sendall(frame)
            return self._read()
        except OSError as exc:
            raise RedisError(f"connection lost: {exc}") from exc

    def _read(self) -> Any:
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._reader.read(size + 2)[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise RedisError(f"unexpected reply {line[:20]!r}")


# --- The cache: configuration and session stores -------------------------------------


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


# --- The application: routes, services, one error shape ------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    content_type: str
    body: bytes
    client_ip: str


@dataclass(frozen=True)
class Response:
    status: int
    body: Mapping[str, Any]


class AppError(Exception):
    """An answer other than success; every one has the OAuth error shape."""

    status = 500
    error = "server_error"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BadRequest(AppError):
    status, error = 400, "invalid_request"


class InvalidCredentials(AppError):
    status, error = 401, "invalid_credentials"


class NotFound(AppError):
    status, error = 404, "not_found"


class MethodNotAllowed(AppError):
    status, error = 405, "method_not_allowed"


class Unavailable(AppError):
    status, error = 503, "temporarily_unavailable"


RESPONSE_TYPES = ["code", "id_token", "token", "code id_token", "code token", "id_token token"]
GRANT_TYPES = ["authorization_code", "implicit", "refresh_token", "client_credentials", "password"]
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
SESSION_PATH = re.compile(r"/oxauth/restv1/session/([A-Za-z0-9._-]{1,128})")
DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/oxauth/.well-known/openid-configuration")


class OxAuth:
    """What the endpoints do, apart from HTTP: ``handle(Request) -> Response``."""

    def __init__(
        self, *, ldap: Ldap, cache: CacheService, suffix: str, issuer_host: str, node: str
    ) -> None:
        self.ldap, self.cache, self.suffix = ldap, cache, suffix
        self.issuer = f"https://{issuer_host}"
        self.node = node

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except AppError as exc:
            return Response(exc.status, {"error": exc.error, "error_description": exc.description})
        except Exception:
            log.exception("Unexpected error serving %s %s", request.method, request.path)
            return Response(500, {"error": "server_error", "error_description": "internal error"})

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        session = SESSION_PATH.fullmatch(path)
        if path in DISCOVERY_PATHS:
            _expect(method, "GET")
            return Response(200, self.discovery())
        if path == "/oxauth/restv1/health-check":
            _expect(method, "GET")
            return self.health()
        if path == "/oxauth/restv1/login":
            _expect(method, "POST")
            username, password = _credentials(request)
            return Response(200, self.login(username, password, request.client_ip))
        if session:
            _expect(method, "GET")
            return Response(200, self.session(session.group(1)))
        raise NotFound(f"no resource at {path}")

    def discovery(self) -> dict[str, Any]:
        rest = f"{self.issuer}/oxauth/restv1"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{rest}/authorize",
            "token_endpoint": f"{rest}/token",
            "userinfo_endpoint": f"{rest}/userinfo",
            "clientinfo_endpoint": f"{rest}/clientinfo",
            "check_session_iframe": f"{self.issuer}/oxauth/opiframe.htm",
            "end_session_endpoint": f"{rest}/end_session",
            "jwks_uri": f"{rest}/jwks",
            "registration_endpoint": f"{rest}/register",
            "introspection_endpoint": f"{rest}/introspection",
            "response_types_supported": RESPONSE_TYPES,
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": GRANT_TYPES,
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256"],
            "scopes_supported": [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ],
            "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
            "claims_supported": ["sub", "name", "given_name", "family_name", "email", "uid"],
        }

    def health(self) -> Response:
        try:
            self.ldap.search(self.suffix, "base", "(objectClass=*)", ["1.1"])
        except LdapError as exc:
            ldap_log.error("Health check: LDAP is not available: %s", exc)
            return Response(503, {"status": "running", "db_status": "offline"})
        return Response(200, {"status": "running", "db_status": "online"})

    def login(self, username: str, password: str, client_ip: str) -> dict[str, Any]:
        audit = _Audit(username, client_ip, self.node)
        try:
            dn = self._authenticate(username, password)
            store = self.cache.store()
            session = self._new_session(username, dn, client_ip, store.ttl)
            store.save(session)
        except InvalidCredentials as exc:
            audit.failure(str(exc))
            raise
        except (LdapError, CacheUnavailable) as exc:
            auth_log.error("Login of %s failed: %s", json.dumps(username), exc)
            audit.failure("service unavailable")
            raise Unavailable(str(exc)) from exc
        audit.success(session["session_id"])
        auth_log.info(
            "Authenticated %s, session %s in %s",
            json.dumps(username),
            session["session_id"],
            store.provider,
        )
        return {"session_id": session["session_id"], "node": self.node, "cache": store.provider}

    def _authenticate(self, username: str, password: str) -> str:
        people = self.ldap.search(
            f"ou=people,{self.suffix}",
            "one",
            f"(&(objectClass=gluuPerson)(uid={escape_filter(username)}))",
            ["uid", "gluuStatus"],
        )
        if len(people) != 1:
            raise InvalidCredentials("unknown user or wrong password")
        status = people[0].first("gluuStatus")
        if status is not None and status.lower() != "active":
            raise InvalidCredentials("user is not active")
        if not self.ldap.credentials_valid(people[0].dn, password):
            raise InvalidCredentials("unknown user or wrong password")
        return people[0].dn

    def _new_session(self, user: str, dn: str, client_ip: str, ttl: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "session_id": str(uuid.uuid4()),
            "user": user,
            "user_dn": dn,
            "node": self.node,
            "client_ip": client_ip,
            "created": now.isoformat(timespec="seconds"),
            "expires": (now + timedelta(seconds=ttl)).isoformat(timespec="seconds"),
        }

    def session(self, session_id: str) -> dict[str, Any]:
        try:
            found = self.cache.store().load(session_id)
        except (LdapError, CacheUnavailable) as exc:
            raise Unavailable(str(exc)) from exc
        if found is None:
            raise NotFound(f"no session {session_id}")
        return found


def _expect(method: str, allowed: str) -> None:
    if method != allowed:
        raise MethodNotAllowed(f"use {allowed}")


def _credentials(request: Request) -> tuple[str, str]:
    """``username`` and ``password`` from a JSON or form body."""
    text = request.body.decode("utf-8", "replace")
    if request.content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            raise BadRequest("body is not JSON") from exc
        fields = data if isinstance(data, dict) else {}
    else:
        fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    username, password = fields.get("username"), fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise BadRequest("username and password are required")
    return username, password


@dataclass(frozen=True)
class _Audit:
    """One oxauth_audit.log line per login attempt; values JSON-quoted so none forges a line."""

    user: str
    client_ip: str
    node: str

    def success(self, session_id: str) -> None:
        self._write("USER_AUTHENTICATION_SUCCESS", "success", session_id, "")

    def failure(self, reason: str) -> None:
        self._write("USER_AUTHENTICATION_FAILURE", "failure", "-", reason)

    def _write(self, action: str, result: str, session_id: str, reason: str) -> None:
        audit_log.info(
            "%s result=%s user=%s session_id=%s client_ip=%s node=%s%s",
            action,
            result,
            json.dumps(self.user),
            session_id,
            self.client_ip,
            self.node,
            f" reason={json.dumps(reason)}" if reason else "",
        )


# --- HTTPS ---------------------------------------------------------------------------

_request_threads = itertools.count(1)


class OxAuthServer(ThreadingHTTPServer):
    """A threading HTTPS server; TLS handshakes happen in the request threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: OxAuth, tls: ssl.SSLContext) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        http_log.debug("Connection from %s failed: %s", client_address, sys.exc_info()[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oxAuth-lab-stand-in"
    timeout = 30  # idle keep-alive connections are closed after this

    def setup(self) -> None:
        threading.current_thread().name = f"qtp{os.getpid()}-{next(_request_threads)}"
        conn = cast(ssl.SSLSocket, self.request)
        conn.settimeout(HANDSHAKE_TIMEOUT)
        conn.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()  # routes answer 405 in the one error shape

    def do_DELETE(self) -> None:
        self._serve()

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        length = self._content_length()
        if length is None:
            self.close_connection = True  # the body cannot be skipped: drop the connection
            return
        request = Request(
            method=self.command,
            path=urlsplit(self.path).path,
            content_type=self.headers.get("Content-Type", ""),
            body=self.rfile.read(length) if length else b"",
            client_ip=self.client_address[0],
        )
        self._send(cast(OxAuthServer, self.server).app.handle(request))

    def _content_length(self) -> int | None:
        """The body's length, or None after answering 400/413 for a bad or huge one."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            return length
        status, what = (413, "body too large") if length > MAX_BODY else (400, "bad length")
        self._send(Response(status, {"error": "invalid_request", "error_description": what}))
        return None

    def _send(self, response: Response) -> None:
        data = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        http_log.debug("%s %s", self.client_address[0], format % args)


# --- Logs ----------------------------------------------------------------------------


class Log4jFormatter(logging.Formatter):
    """``2026-11-27 00:10:00,123 INFO  [qtp1-3] [org.gluu...] (File.java:123) - message``."""

    LEVELS = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(level4j)-5s [%(threadName)s] [%(name)s] (%(javafile)s:%(lineno)d)"
            " - %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        record.level4j = self.LEVELS.get(record.levelname, record.levelname)
        record.javafile = record.name.rsplit(".", 1)[-1] + ".java"
        return super().format(record)


def setup_logging(log_dir: str) -> None:
    """oxauth.log gets everything under ``org``; oxauth_audit.log only the audit logger."""
    os.makedirs(log_dir, exist_ok=True)
    for name, path in (("org", OXAUTH_LOG), (audit_log.name, OXAUTH_AUDIT_LOG)):
        handler = logging.handlers.WatchedFileHandler(os.path.join(log_dir, path))
        handler.setFormatter(Log4jFormatter())
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


# --- Service script ------------------------------------------------------------------

INIT_SCRIPT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          oxauth
# Required-Start:    $network slapd
# Required-Stop:     $network slapd
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: oxAuth (clustermgr lab stand-in)
# Description:       The lab's stand-in for Gluu's oxAuth: HTTPS login and
#                    sessions in the cache that oxCacheConfiguration names.
### END INIT INFO

PATH=/usr/sbin:/usr/bin:/sbin:/bin
NAME=oxauth
PYTHON={python}
APP={app}
PIDFILE={pidfile}
OXAUTH_OPTS=""
[ -r {defaults} ] && . {defaults}

if [ -r /lib/lsb/init-functions ]; then
    . /lib/lsb/init-functions
else
    log_daemon_msg() {{ printf '%s: %s' "$1" "$2"; }}
    log_end_msg() {{ if [ "$1" = 0 ]; then echo .; else echo ' failed!'; fi; return "$1"; }}
fi

[ -x "$PYTHON" ] && [ -r "$APP" ] || exit 5

do_start() {{
    # -I: no PYTHON* variables, no user site.  OXAUTH_OPTS is split on blanks on purpose.
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile \\
        --pidfile "$PIDFILE" --chdir / --exec "$PYTHON" -- -I "$APP" $OXAUTH_OPTS
}}

do_stop() {{
    start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 \\
        --pidfile "$PIDFILE" --exec "$PYTHON" --remove-pidfile
}}

case "$1" in
    start)
        log_daemon_msg "Starting oxAuth" "$NAME"; do_start; log_end_msg $?
        ;;
    stop)
        log_daemon_msg "Stopping oxAuth" "$NAME"; do_stop; log_end_msg $?
        ;;
    restart|force-reload)
        log_daemon_msg "Restarting oxAuth" "$NAME"; do_stop && do_start; log_end_msg $?
        ;;
    status)
        start-stop-daemon --status --pidfile "$PIDFILE" --exec "$PYTHON"
        status=$?
        case $status in
            0) echo "$NAME is running" ;;
            1) echo "$NAME is not running but $PIDFILE exists" ;;
            *) echo "$NAME is not running" ;;
        esac
        exit $status
        ;;
    *)
        echo "Usage: $0 {{start|stop|restart|force-reload|status}}" >&2
        exit 3
        ;;
esac
"""


def init_script(
    python: str = DEFAULT_PYTHON,
    app_path: str = OXAUTH_APP,
    pidfile: str = OXAUTH_PIDFILE,
    defaults_file: str = OXAUTH_DEFAULTS,
) -> str:
    """The SysV script for ``/etc/init.d/oxauth`` (``service oxauth start|stop|status``)."""
    quoted = {
        k: shlex.quote(v)
        for k, v in {
            "python": python,
            "app": app_path,
            "pidfile": pidfile,
            "defaults": defaults_file,
        }.items()
    }
    return INIT_SCRIPT.format(**quoted)


def defaults_text(options: Sequence[str]) -> str:
    """``/etc/default/oxauth``: the app's options, one word each (the script splits on blanks)."""
    for option in options:
        if not option or re.search(r"[\s\"'`$\\]", option):
            raise ValueError(f"option {option!r} must be one word without quotes or $")
    return f'OXAUTH_OPTS="{" ".join(options)}"\n'


# --- Command line --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="oxAuth stand-in for the clustermgr lab")
    parser.add_argument(
        "--ldap-properties",
        "--config",
        default=OX_LDAP_PROPERTIES,
        help="ox-ldap.properties to read (default: %(default)s)",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on")  # noqa: S104
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", default=HTTPD_CERT, help="HTTPS certificate (PEM)")
    parser.add_argument("--key", default=HTTPD_KEY, help="HTTPS private key (PEM)")
    parser.add_argument(
        "--hostname",
        default=socket.gethostname(),
        help="the Gluu hostname: the issuer is https://HOSTNAME",
    )
    parser.add_argument("--suffix", default=SUFFIX, help="directory suffix (default: o=gluu)")
    parser.add_argument("--log-dir", default=OXAUTH_LOG_DIR)
    parser.add_argument("--pid-file", help="write the process id here while running")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> OxAuthServer:
    """Read ox-ldap.properties, load the certificate and bind the port."""
    with open(args.ldap_properties, encoding="utf-8") as props:
        settings = LdapSettings.from_properties(parse_properties(props.read()))
    ldap = Ldap(settings)
    app = OxAuth(
        ldap=ldap,
        cache=CacheService(ldap, args.suffix),
        suffix=args.suffix,
        issuer_host=args.hostname,
        node=socket.gethostname(),
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    log.info("LDAP servers: %s, bind DN: %s", " ".join(settings.uris), settings.bind_dn)
    return OxAuthServer((args.bind, args.port), app, tls)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_dir)
    log.info("Starting oxAuth (lab stand-in), pid %d, node %s", os.getpid(), socket.gethostname())
    try:
        server = build(args)
    except (OSError, ValueError) as exc:
        log.error("Failed to start oxAuth: %s", exc)
        sys.stderr.write(f"oxauth: {exc}\n")
        return 1
    try:
        if args.pid_file:
            _write_pidfile(args.pid_file)
        serve_until_signalled(server)
    except OSError as exc:
        log.error("oxAuth failed: %s", exc)
        return 1
    finally:
        server.server_close()
        if args.pid_file:
            _remove_pidfile(args.pid_file)
    log.info("oxAuth stopped")
    return 0


def serve_until_signalled(server: OxAuthServer) -> None:
    """Serve in a thread until SIGTERM or SIGINT, then stop accepting and return."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="qtp-acceptor", daemon=True)
    worker.start()
    host, port = server.server_address[:2]
    log.info("oxAuth started: https://%s:%s, issuer %s", host, port, server.app.issuer)
    stop.wait()
    log.info("Stopping oxAuth")
    server.shutdown()


def _write_pidfile(path: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as out:
        out.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def _remove_pidfile(path: str) -> None:
    try:
        with open(path, encoding="ascii") as pidfile:
            ours = pidfile.read().strip() == str(os.getpid())
        if ours:
            os.unlink(path)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
