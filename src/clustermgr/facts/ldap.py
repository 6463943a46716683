"""slapd's cn=config as far as replication cares: server ids, modules, databases, overlays.

Read as root over ldapi:/// with SASL EXTERNAL.  ``olcSyncrepl`` is left out on
purpose: it holds the replicator's password, and the steps' own checks compare
it on the node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from clustermgr.components.ldap.hostcheck import parse_ldif, strip_order, tokens
from clustermgr.facts.base import Fact, unusable
from clustermgr.remote.command import Command

_DB_INDEX = re.compile(r"^olcDatabase=\{(-?\d+)\}", re.IGNORECASE)

LDAPSEARCH_ROOT = ("ldapsearch", "-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL")


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
            )
        )
    return SlapdConfig(server_ids, module_dn, frozenset(modules), tuple(dbs))


SLAPD_CONFIG: Fact[SlapdConfig] = Fact(
    name="slapd_config",
    command=Command.of(
        *LDAPSEARCH_ROOT,
        "-H",
        "ldapi:///",
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
