"""A stand-in for Gluu's oxAuth, used only by clustermgr's lab and its tests.

Lab identity nodes must look like Gluu nodes from the outside without a JVM and
a 300 MB war: this package answers the endpoints clustermgr and the load balancer
use (discovery, health-check), logs in users against the node's LDAP and keeps
their sessions in the cache that ``oxCacheConfiguration`` names, so replication,
the Redis/stunnel/twemproxy chain and cache switches can be tested end to end.
A login also returns a signed token (an ES256 JWT whose key is in the node's
keystore file, as oxAuth's are), which every node holding that key accepts; it is
not an OpenID provider all the same: no clients, no consent, no code flow.

It runs with Debian's ``/usr/bin/python3`` and nothing else: the standard
library, Debian's python3-cryptography (the signatures), the ldap-utils commands
(``ldapsearch``, ``ldapadd``, ``ldapwhoami``) and a few lines of RESP for Redis.
Passwords reach the LDAP tools through a pipe (``-y /dev/fd/N``), never on a
command line or on disk.

A lab host gets it as one file, a zipapp built by
:func:`clustermgr.lab.gluu.bundle.oxauth_zipapp` in which this package is the
top-level package ``oxauth``.  Hence the two rules for its modules: imports
within the package are relative (``from .ldap import Ldap``), and nothing outside
the standard library and ``cryptography`` is imported, clustermgr included.

Run ``python3 -I oxauth.pyz --help``; :func:`init_script` renders
``/etc/init.d/oxauth``.  The modules, from the bottom up:

- :mod:`.paths` the node's layout, :mod:`.secret` the stored secrets' encoding;
- :mod:`.ldif` LDIF text, :mod:`.ldap` the directory through ldap-utils,
  :mod:`.resp` the Redis client;
- :mod:`.stores` the session stores, :mod:`.cache` the one configured now;
- :mod:`.keys` the keystore file and its JWKS, :mod:`.tokens` the signed tokens;
- :mod:`.messages` requests, answers, errors; :mod:`.app` the endpoints;
- :mod:`.logs` log4j-like logs, :mod:`.server` HTTPS and signals, :mod:`.cli` ``main``;
- :mod:`.service` the init script and its defaults file.
"""

from __future__ import annotations

from .app import (
    DISCOVERY_PATHS,
    GRANT_TYPES,
    INTROSPECTION_PATH,
    JWKS_PATH,
    RESPONSE_TYPES,
    SESSION_PATH,
    TOKEN_AUTH_METHODS,
    OxAuth,
)
from .cache import CONFIG_TTL, CacheService
from .cli import build, main, parse_args
from .keys import (
    Keystore,
    KeystoreError,
    KeystoreFile,
    keystore_text,
    new_key,
    new_keystore,
    read_keystore,
    with_key,
    with_signing_key,
    without_key,
)
from .ldap import (
    INVALID_CREDENTIALS,
    LDAP_NET_TIMEOUT,
    LDAP_TIMEOUT,
    NO_SUCH_OBJECT,
    Ldap,
    LdapError,
    LdapSettings,
    parse_properties,
)
from .ldif import Entry, escape_filter, ldif_attr, parse_ldif
from .logs import (
    Log4jFormatter,
    audit_log,
    auth_log,
    cache_log,
    http_log,
    ldap_log,
    log,
    setup_logging,
)
from .messages import (
    AppError,
    BadRequest,
    InvalidCredentials,
    MethodNotAllowed,
    NotFound,
    Request,
    Response,
    Unavailable,
)
from .paths import (
    DEFAULT_PYTHON,
    HTTPD_CERT,
    HTTPD_KEY,
    OX_LDAP_PROPERTIES,
    OXAUTH_APP,
    OXAUTH_AUDIT_LOG,
    OXAUTH_DEFAULTS,
    OXAUTH_INIT_SCRIPT,
    OXAUTH_KEYSTORE,
    OXAUTH_LOG,
    OXAUTH_LOG_DIR,
    OXAUTH_PIDFILE,
    SUFFIX,
)
from .resp import RedisError, Resp
from .secret import SECRET_ENCODING, decode_secret, encode_secret
from .server import HANDSHAKE_TIMEOUT, MAX_BODY, Handler, OxAuthServer, serve_until_signalled
from .service import INIT_SCRIPT, defaults_text, init_script
from .stores import (
    CacheUnavailable,
    InMemoryStore,
    NativePersistenceStore,
    RedisStore,
    SessionStore,
    describe,
    make_store,
)
from .tokens import DEFAULT_LIFETIME, InvalidToken, issue, validate

__all__ = [
    "CONFIG_TTL",
    "DEFAULT_LIFETIME",
    "DEFAULT_PYTHON",
    "DISCOVERY_PATHS",
    "GRANT_TYPES",
    "HANDSHAKE_TIMEOUT",
    "HTTPD_CERT",
    "HTTPD_KEY",
    "INIT_SCRIPT",
    "INTROSPECTION_PATH",
    "INVALID_CREDENTIALS",
    "JWKS_PATH",
    "LDAP_NET_TIMEOUT",
    "LDAP_TIMEOUT",
    "MAX_BODY",
    "NO_SUCH_OBJECT",
    "OXAUTH_APP",
    "OXAUTH_AUDIT_LOG",
    "OXAUTH_DEFAULTS",
    "OXAUTH_INIT_SCRIPT",
    "OXAUTH_KEYSTORE",
    "OXAUTH_LOG",
    "OXAUTH_LOG_DIR",
    "OXAUTH_PIDFILE",
    "OX_LDAP_PROPERTIES",
    "RESPONSE_TYPES",
    "SECRET_ENCODING",
    "SESSION_PATH",
    "SUFFIX",
    "TOKEN_AUTH_METHODS",
    "AppError",
    "BadRequest",
    "CacheService",
    "CacheUnavailable",
    "Entry",
    "Handler",
    "InMemoryStore",
    "InvalidCredentials",
    "InvalidToken",
    "Keystore",
    "KeystoreError",
    "KeystoreFile",
    "Ldap",
    "LdapError",
    "LdapSettings",
    "Log4jFormatter",
    "MethodNotAllowed",
    "NativePersistenceStore",
    "NotFound",
    "OxAuth",
    "OxAuthServer",
    "RedisError",
    "RedisStore",
    "Request",
    "Resp",
    "Response",
    "SessionStore",
    "Unavailable",
    "audit_log",
    "auth_log",
    "build",
    "cache_log",
    "decode_secret",
    "defaults_text",
    "describe",
    "encode_secret",
    "escape_filter",
    "http_log",
    "init_script",
    "issue",
    "keystore_text",
    "ldap_log",
    "ldif_attr",
    "log",
    "main",
    "make_store",
    "new_key",
    "new_keystore",
    "parse_args",
    "parse_ldif",
    "parse_properties",
    "read_keystore",
    "serve_until_signalled",
    "setup_logging",
    "validate",
    "with_key",
    "with_signing_key",
    "without_key",
]
