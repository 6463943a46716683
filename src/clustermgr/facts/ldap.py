"""slapd as root reads it: cn=config as far as replication cares, and contextCSN.

Read as root over ldapi:/// with SASL EXTERNAL; :func:`ldapsearch_root`,
:func:`ldapmodify_root` and :func:`root_script` are the one way to run root's
LDAP tools on a node.  ``olcSyncrepl`` holds the replicator's password: the
node masks every ``credentials=`` before the values leave it (and drops values
it could not mask), so the manager reads the agreements to show them in plans,
and the steps' own checks compare the password on the node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from clustermgr.facts.base import Fact, unusable
from clustermgr.facts.ldif import (
    LDAPI_ROOT_SH,
    LDAPMODIFY_ROOT,
    LDAPSEARCH_ROOT,
    parse_ldif,
    strip_order,
    tokens,
    values,
)
from clustermgr.redact import Secret
from clustermgr.remote.command import Command


def ldapsearch_root(*arguments: str) -> Command:
    """``ldapsearch`` as root over ldapi:///, unwrapped LDIF without comments."""
    return Command.of(*LDAPSEARCH_ROOT, *arguments)


def ldapmodify_root(ldif: bytes | Secret) -> Command:
    """``ldapmodify`` as root over ldapi:///; the LDIF goes on standard input."""
    return Command.of(*LDAPMODIFY_ROOT, stdin=ldif)


def root_script(body: str, *args: str | Secret, stdin: bytes | Secret | None = None) -> Command:
    """A shell script in which ``$LDAPI`` holds root's ldapi options for every LDAP tool.

    Write ``ldapsearch $LDAPI ...`` (unquoted: the options are several words).
    """
    return Command.script(f"LDAPI='{LDAPI_ROOT_SH}'\n{body}", *args, stdin=stdin)


_DB_INDEX = re.compile(r"^olcDatabase=\{(-?\d+)\}", re.IGNORECASE)


@dataclass(frozen=True)
class Database:
    dn: str
    index: int
    suffix: str | None
    directory: str | None = None
    overlays: frozenset[str] = frozenset()
    access: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()
    multi_provider: bool = False
    #: olcSyncrepl values, order prefix removed, ``credentials=`` masked on the node.
    agreements: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlapdConfig:
    server_ids: tuple[str, ...] = ()
    module_dn: str | None = None
    modules: frozenset[str] = frozenset()
    databases: tuple[Database, ...] = field(default=())

    def database(self, suffix: str) -> Database | None:
        for db in self.databases:
            if db.suffix is not None and db.suffix.lower() == suffix.lower():
                return db
        return None

    @property
    def next_index(self) -> int:
        return max((db.index for db in self.databases), default=0) + 1


def parse_slapd_config(stdout: str) -> SlapdConfig:
    entries = parse_ldif(stdout)
    if not any(dn.lower() == "cn=config" for dn, _ in entries):
        raise unusable("slapd_config", stdout, "no cn=config entry")
    server_ids: tuple[str, ...] = ()
    module_dn: str | None = None
    modules: set[str] = set()
    overlays: dict[str, set[str]] = {}
    databases: list[tuple[str, dict[str, list[str]]]] = []
    for dn, attrs in entries:
        lower = dn.lower()
        if lower == "cn=config":
            server_ids = tuple(attrs.get("olcserverid", []))
        elif "olcmoduleload" in attrs:
            module_dn = module_dn or dn
            for value in attrs["olcmoduleload"]:
                modules |= tokens("olcModuleLoad", value)
        elif "olcoverlay" in attrs:
            parent = dn.split(",", 1)[1]
            overlays.setdefault(parent.lower(), set()).update(
                strip_order(v) for v in attrs["olcoverlay"]
            )
        elif "olcdatabase" in attrs:
            databases.append((dn, attrs))
    dbs = []
    for dn, attrs in databases:
        match = _DB_INDEX.match(dn)
        dbs.append(
            Database(
                dn=dn,
                index=int(match.group(1)) if match else 0,
                suffix=next(iter(attrs.get("olcsuffix", [])), None),
                directory=next(iter(attrs.get("olcdbdirectory", [])), None),
                overlays=frozenset(overlays.get(dn.lower(), set())),
                access=tuple(strip_order(v) for v in attrs.get("olcaccess", [])),
                limits=tuple(strip_order(v) for v in attrs.get("olclimits", [])),
                multi_provider="TRUE" in [v.upper() for v in attrs.get("olcmultiprovider", [])],
                agreements=tuple(strip_order(v) for v in attrs.get("olcsyncrepl", [])),
            )
        )
    return SlapdConfig(server_ids, module_dn, frozenset(modules), tuple(dbs))


_CONFIG_SEARCH = ldapsearch_root(
    "-b",
    "cn=config",
    "(|(objectClass=olcGlobal)(objectClass=olcModuleList)"
    "(objectClass=olcDatabaseConfig)(objectClass=olcOverlayConfig))",
    "olcServerID",
    "olcModuleLoad",
    "olcDatabase",
    "olcSuffix",
    "olcDbDirectory",
    "olcOverlay",
    "olcAccess",
    "olcLimits",
    "olcMultiProvider",
    "olcSyncrepl",
)

#: Masks each ``credentials=`` value in the LDIF on standard input; drops base64
#: olcSyncrepl values (a sed cannot mask inside them).
MASK_CREDENTIALS_SED = (
    "/^olcSyncrepl::/Id; "
    's/(credentials[[:space:]]*=[[:space:]]*)("[^"]*"?|[^[:space:]]*)/\\1********/Ig'
)

SLAPD_CONFIG: Fact[SlapdConfig] = Fact(
    name="slapd_config",
    command=Command.script(
        'mask=$1; shift\nout=$("$@") || exit $?\nprintf \'%s\\n\' "$out" | sed -E "$mask"',
        MASK_CREDENTIALS_SED,
        *(str(part) for part in _CONFIG_SEARCH.parts),
    ),
    parse=parse_slapd_config,
)


#: The same facts read from the config database's files, for a node whose slapd does
#: not answer (``slapcat -n 0`` works offline).  olcSyncrepl lines, which hold the
#: replicator's password, are cut on the node: they never reach the manager.
SLAPD_CONFIG_OFFLINE: Fact[SlapdConfig] = Fact(
    name="slapd_config_offline",
    command=Command.script("slapcat -n 0 -o ldif-wrap=no | grep -iv '^olcSyncrepl:'"),
    parse=parse_slapd_config,
)


def split_csn(value: str) -> tuple[str, str, str, str]:
    """A CSN's four fields as written: time, count, server id (hex), modification number.

    A CSN looks like ``20261127015000.123456Z#000000#001#000000``.  Raises
    ValueError on anything else.
    """
    parts = value.strip().split("#")
    if len(parts) != 4:
        raise ValueError(f"not a CSN: {value!r}")
    return parts[0], parts[1], parts[2], parts[3]


def csn_server_id(value: str) -> str | None:
    """The server id (hex, as written) a CSN names, or None when ``value`` is no CSN."""
    try:
        return split_csn(value)[2]
    except ValueError:
        return None


def context_csn_by_id(found: Iterable[str]) -> dict[str, str]:
    """contextCSN values keyed by their server id (hex, as in the CSN); others left out."""
    out = {}
    for value in found:
        sid = csn_server_id(value)
        if sid is not None:
            out[sid] = value
    return out


def parse_context_csn(stdout: str) -> dict[str, str]:
    """A suffix's contextCSN (an entry without any is a directory nobody wrote to)."""
    return context_csn_by_id(values(parse_ldif(stdout), "contextCSN"))


def context_csn(suffix: str) -> Fact[dict[str, str]]:
    """The suffix's contextCSN: per server id, the newest change the node has from it."""
    return Fact(
        name="context_csn",
        command=ldapsearch_root("-b", suffix, "-s", "base", "contextCSN"),
        parse=parse_context_csn,
    )
