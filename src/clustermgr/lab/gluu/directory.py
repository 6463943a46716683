"""A lab identity node's directory as text: slapd's cn=config, Gluu's base entries,
the cache configuration and ``/etc/gluu/conf/ox-ldap.properties``.

Pure renderers (no I/O but :func:`gluu_schema_ldif`, which reads the packaged
schema): the lab writes their output to a host and loads it with ``slapadd``.

Schemas: ``slapadd -n0`` needs the schema entries' content, not a reference to a
file at run time.  The config LDIF therefore uses the LDIF ``include:`` directive
for the distribution's own schemas (``include: file:///etc/ldap/schema/core.ldif``,
as Debian's ``slapd.init.ldif`` does), which slapadd resolves on the host that
loads it, and inlines the Gluu schema given as text.  The renderer stays pure and
each host uses the schema files of its own slapd build.

This module also runs on nodes, inside the ``gluu-server`` package's setup program
(:mod:`clustermgr.lab.gluu.package`): it imports the standard library and
:mod:`clustermgr.lab.gluu.oxauth` only.

The identity node's paths, the stand-in's secret encoding and the LDIF line
helper live in :mod:`clustermgr.lab.gluu.oxauth`, which has to run alone on lab
hosts; they are re-exported here so there is one place for each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from importlib import resources
from typing import Any
from urllib.parse import quote

from clustermgr.lab.gluu.oxauth import (
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
    SECRET_ENCODING,
    SUFFIX,
    defaults_text,
    encode_secret,
    init_script,
    ldif_attr,
)

__all__ = [
    "DEFAULT_PYTHON",
    "HTTPD_CERT",
    "HTTPD_KEY",
    "OXAUTH_APP",
    "OXAUTH_AUDIT_LOG",
    "OXAUTH_DEFAULTS",
    "OXAUTH_INIT_SCRIPT",
    "OXAUTH_KEYSTORE",
    "OXAUTH_LOG",
    "OXAUTH_LOG_DIR",
    "OXAUTH_PIDFILE",
    "OX_LDAP_PROPERTIES",
    "SECRET_ENCODING",
    "SUFFIX",
    "base_data_ldif",
    "cache_config_change_ldif",
    "defaults_text",
    "gluu_schema_ldif",
    "init_script",
    "native_cache_config",
    "ox_ldap_properties",
    "redis_cache_config",
    "slapd_config_ldif",
    "ssha_password",
]

ROOT_DN = "cn=directory manager,o=gluu"
SCHEMA_DIR = "/etc/ldap/schema"
RUN_DIR = "/var/run/slapd"
MODULE_DIR = "/usr/lib/ldap"
#: The distribution schemas loaded before Gluu's, in order (Debian's default set).
BASE_SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
#: Root on the host, over ldapi:// with SASL EXTERNAL: manages cn=config.
PEERCRED_ROOT = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
DB_MAX_SIZE = 1 << 30
#: entryCSN and entryUUID are what syncrepl looks up; the rest are Gluu's hot filters.
INDEXES = ("objectClass eq", "uid eq", "inum eq", "uuid eq", "entryCSN eq", "entryUUID eq")
ADMIN_UID = "admin"
ADMIN_INUM = "6e0d9c3a-3f1b-4c5e-9a71-0a5b1c2d3e4f"
DEFAULT_PUT_EXPIRATION = 60


def gluu_schema_ldif() -> str:
    """The packaged Gluu schema (``schema.ldif``), for ``extra_schema``."""
    return resources.files(__package__).joinpath("schema.ldif").read_text(encoding="utf-8")


def ssha_password(password: str, salt: bytes | None = None) -> str:
    """``{SSHA}`` hash for userPassword/olcRootPW, as ``slappasswd -h {SSHA}`` makes.

    SSHA is what Gluu's setup writes and every slapd verifies without a module.
    """
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 (the SSHA format)
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _entry(dn: str, *attrs: tuple[str, str]) -> str:
    return "\n".join([ldif_attr("dn", dn), *(ldif_attr(name, value) for name, value in attrs)])


def _quoted_dn(dn: str) -> str:
    if '"' in dn:
        raise ValueError(f"DN {dn!r} cannot be quoted in an ACL")
    return f'"{dn}"'


def slapd_config_ldif(
    *,
    suffix: str = SUFFIX,
    root_dn: str = ROOT_DN,
    root_pw_hash: str,
    db_dir: str,
    schema_dir: str = SCHEMA_DIR,
    run_dir: str = RUN_DIR,
    module_dir: str = MODULE_DIR,
    extra_schema: str,
    replicator_dn: str | None = None,
) -> str:
    """A complete cn=config for ``slapadd -n0 -F <slapd.d> -l <this>``.

    ``extra_schema`` is inlined (normally :func:`gluu_schema_ldif`); the base
    schemas are ``include:``d from ``schema_dir`` on the loading host.
    ``replicator_dn``, if given, may read userPassword and is not size-limited,
    so syncrepl consumers bound as it copy whole entries.
    """
    parts = [
        _global(run_dir),
        _frontend(),
        _config_database(),
        _schemas(schema_dir),
        extra_schema.strip(),
        _modules(module_dir),
        _mdb(suffix, root_dn, root_pw_hash, db_dir, replicator_dn),
    ]
    return "\n\n".join(parts) + "\n"


def _global(run_dir: str) -> str:
    return _entry(
        "cn=config",
        ("objectClass", "olcGlobal"),
        ("cn", "config"),
        ("olcPidFile", f"{run_dir}/slapd.pid"),
        ("olcArgsFile", f"{run_dir}/slapd.args"),
        ("olcLogLevel", "none"),
        ("olcToolThreads", "1"),
    )


def _frontend() -> str:
    return _entry(
        "olcDatabase={-1}frontend,cn=config",
        ("objectClass", "olcDatabaseConfig"),
        ("objectClass", "olcFrontendConfig"),
        ("olcDatabase", "{-1}frontend"),
        ("olcAccess", f"{{0}}to * by dn.exact={PEERCRED_ROOT} manage by * break"),
        ("olcAccess", '{1}to dn.exact="" by * read'),
        ("olcAccess", '{2}to dn.base="cn=Subschema" by * read'),
    )


def _config_database() -> str:
    return _entry(
        "olcDatabase={0}config,cn=config",
        ("objectClass", "olcDatabaseConfig"),
        ("olcDatabase", "{0}config"),
        ("olcAccess", f"{{0}}to * by dn.exact={PEERCRED_ROOT} manage by * break"),
    )


def _schemas(schema_dir: str) -> str:
    head = _entry("cn=schema,cn=config", ("objectClass", "olcSchemaConfig"), ("cn", "schema"))
    base = schema_dir.rstrip("/")
    includes = [f"include: file://{quote(f'{base}/{name}.ldif')}" for name in BASE_SCHEMAS]
    return head + "\n\n" + "\n".join(includes)


def _modules(module_dir: str) -> str:
    return _entry(
        "cn=module{0},cn=config",
        ("objectClass", "olcModuleList"),
        ("cn", "module{0}"),
        ("olcModulePath", module_dir),
        ("olcModuleLoad", "back_mdb"),
    )


def _mdb(
    suffix: str, root_dn: str, root_pw_hash: str, db_dir: str, replicator_dn: str | None
) -> str:
    replicator = f"by dn.exact={_quoted_dn(replicator_dn)} read " if replicator_dn else ""
    attrs = [
        ("objectClass", "olcDatabaseConfig"),
        ("objectClass", "olcMdbConfig"),
        ("olcDatabase", "{1}mdb"),
        ("olcSuffix", suffix),
        ("olcRootDN", root_dn),
        ("olcRootPW", root_pw_hash),
        ("olcDbDirectory", db_dir),
        ("olcDbMaxSize", str(DB_MAX_SIZE)),
        ("olcDbCheckpoint", "512 30"),
        ("olcLastMod", "TRUE"),
        *(("olcDbIndex", index) for index in INDEXES),
        # userPassword serves binds only: nobody reads it but the root DN (and replicator).
        (
            "olcAccess",
            f"{{0}}to attrs=userPassword {replicator}by self write by anonymous auth by * none",
        ),
        ("olcAccess", "{1}to * by users read by * none"),
    ]
    if replicator_dn:
        limit = f"{{0}}dn.exact={_quoted_dn(replicator_dn)} time=unlimited size=unlimited"
        attrs.append(("olcLimits", limit))
    return _entry("olcDatabase={1}mdb,cn=config", *attrs)


def _organization(suffix: str) -> str:
    attr, _, value = suffix.split(",")[0].partition("=")
    if attr.strip().lower() != "o" or not value:
        raise ValueError(f"suffix {suffix!r} must start with o=: Gluu's root is an organization")
    return value.strip()


def _branch(dn: str, ou: str) -> str:
    return _entry(dn, ("objectClass", "top"), ("objectClass", "organizationalUnit"), ("ou", ou))


def base_data_ldif(
    *,
    suffix: str = SUFFIX,
    admin_password_hash: str,
    cache_config: dict[str, Any],
    admin_inum: str = ADMIN_INUM,
) -> str:
    """Gluu's skeleton for ``slapadd -n1``: organisation, configuration, branches, admin user."""
    organization = _organization(suffix)
    entries = [
        _entry(
            suffix,
            ("objectClass", "top"),
            ("objectClass", "gluuOrganization"),
            ("o", organization),
            ("displayName", "Gluu"),
            ("description", "Gluu Server (clustermgr lab)"),
        ),
        _entry(
            f"ou=configuration,{suffix}",
            ("objectClass", "top"),
            ("objectClass", "gluuConfiguration"),
            ("ou", "configuration"),
            ("oxCacheConfiguration", json.dumps(cache_config)),
            ("oxRevision", "1"),
        ),
        *(_branch(f"ou={ou},{suffix}", ou) for ou in ("people", "groups", "cache")),
        _entry(
            f"inum={admin_inum},ou=people,{suffix}",
            ("objectClass", "top"),
            ("objectClass", "inetOrgPerson"),
            ("objectClass", "gluuPerson"),
            ("inum", admin_inum),
            ("uid", ADMIN_UID),
            ("cn", "Default Admin User"),
            ("sn", "User"),
            ("givenName", "Admin"),
            ("displayName", "Default Admin User"),
            ("gluuStatus", "active"),
            ("userPassword", admin_password_hash),
        ),
    ]
    return "\n\n".join(entries) + "\n"


def cache_config_change_ldif(
    *, suffix: str = SUFFIX, cache_config: dict[str, Any], revision: int
) -> str:
    """An ``ldapmodify`` change that installs ``cache_config`` and sets oxRevision."""
    return (
        "\n".join(
            [
                ldif_attr("dn", f"ou=configuration,{suffix}"),
                "changetype: modify",
                "replace: oxCacheConfiguration",
                ldif_attr("oxCacheConfiguration", json.dumps(cache_config)),
                "-",
                "replace: oxRevision",
                f"oxRevision: {revision}",
                "-",
            ]
        )
        + "\n"
    )


def _cache_config(provider: str, redis: dict[str, Any]) -> dict[str, Any]:
    """Gluu 4's oxCacheConfiguration: every provider's section, one of them selected."""
    return {
        "cacheProviderType": provider,
        "memcachedConfiguration": {
            "servers": "localhost:11211",
            "maxOperationQueueLength": 100000,
            "bufferSize": 32768,
            "defaultPutExpiration": DEFAULT_PUT_EXPIRATION,
            "connectionFactoryType": "DEFAULT",
        },
        "inMemoryConfiguration": {"defaultPutExpiration": DEFAULT_PUT_EXPIRATION},
        "redisConfiguration": redis,
        "nativePersistenceConfiguration": {
            "defaultPutExpiration": DEFAULT_PUT_EXPIRATION,
            "defaultCleanupBatchSize": 25,
            "deleteExpiredOnGetRequest": False,
        },
    }


def _redis_section(servers: str, password: str | None) -> dict[str, Any]:
    return {
        "redisProviderType": "STANDALONE",
        "servers": servers,
        "password": encode_secret(password) if password else None,
        "defaultPutExpiration": DEFAULT_PUT_EXPIRATION,
        "sentinelMasterGroupName": None,
        "useSSL": False,
        "sslTrustStoreFilePath": None,
        "maxIdleConnections": 10,
        "maxTotalConnections": 500,
        "connectionTimeout": 3000,
        "soTimeout": 3000,
        "maxRetryAttempts": 5,
    }


def native_cache_config() -> dict[str, Any]:
    """Sessions in LDAP (``ou=cache``): Gluu 4's default, and what setup writes."""
    return _cache_config("NATIVE_PERSISTENCE", _redis_section("localhost:6379", None))


def redis_cache_config(servers: str, password: str | None = None) -> dict[str, Any]:
    """Sessions in Redis at ``servers`` (``host:port[,host:port]``).

    ``password`` is stored encoded by the lab's convention (SECRET_ENCODING);
    real Gluu stores it encrypted with the node's salt.
    """
    return _cache_config("REDIS", _redis_section(servers, password))


def ox_ldap_properties(
    *,
    servers: Sequence[str],
    bind_dn: str,
    bind_password: str,
    use_ssl: bool = False,
    trust_store_file: str | None = None,
    max_connections: int = 10,
) -> str:
    """``/etc/gluu/conf/ox-ldap.properties``: how oxAuth reaches the directory.

    ``servers`` are ``host:port``, this node's own first (Gluu fails over in
    order).  ``bindPassword`` is encoded by SECRET_ENCODING.  The stand-in reads
    ``ssl.trustStoreFile`` as a PEM CA, where Gluu expects PKCS#12.
    """
    lines = [
        f"bindDN: {bind_dn}",
        f"bindPassword: {encode_secret(bind_password)}",
        f"servers: {','.join(servers)}",
        "",
        f"useSSL: {'true' if use_ssl else 'false'}",
    ]
    if trust_store_file:
        lines += [f"ssl.trustStoreFile: {trust_store_file}", "ssl.trustStoreFormat: pem"]
    lines += [
        "",
        f"maxconnections: {max_connections}",
        "",
        "# Max wait 20 seconds",
        "connection.max-wait-time-millis=20000",
        "",
        "# Force to recreate polled connections after 30 minutes",
        "connection.max-age-time-millis=1800000",
        "",
        "binaryAttributes=objectGUID",
        "certificateAttributes=userCertificate",
    ]
    return "\n".join(lines) + "\n"
