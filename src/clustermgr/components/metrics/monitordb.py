"""slapd's ``cn=monitor`` database on an identity node (pure): read by root over ldapi only.

Debian ships no OpenLDAP exporter; slapd counts its operations and connections
itself, under ``cn=monitor``, once its monitor database is configured.  The
backend is built into Debian's slapd (``slapd -VVV`` lists its static backends);
a slapd that has it as a module gets ``back_monitor`` loaded first.  Only root's
peer credential over ldapi reads it: ``by * none`` keeps it from anyone on the
LDAP ports.
"""

from __future__ import annotations

import re

from clustermgr.facts.base import Fact
from clustermgr.facts.ldap import Database, SlapdConfig, root_script
from clustermgr.facts.ldif import PEERCRED_ROOT
from clustermgr.remote.command import Command, Raw

SUFFIX = "cn=monitor"
MODULE = "back_monitor"
#: Root (its peer credential over ldapi) reads; nobody else sees anything.
ACCESS = f'to * by dn.exact="{PEERCRED_ROOT}" read by * none'
_DATABASE_DN = re.compile(r"^olcDatabase=(\{-?\d+\})?monitor,cn=config$", re.IGNORECASE)
_MODULE_LIST = "cn=module{0},cn=config"


def parse_static_backends(stdout: str) -> frozenset[str]:
    """The backends ``slapd -VVV`` lists as built in (none when it lists no such section)."""
    found: set[str] = set()
    inside = False
    for line in stdout.splitlines():
        if line.strip().lower() == "included static backends:":
            inside = True
        elif inside and line.startswith((" ", "\t")) and line.strip():
            found.add(line.strip().lower())
        elif inside and line.strip():
            inside = False
    return frozenset(found)


STATIC_BACKENDS: Fact[frozenset[str]] = Fact(
    name="slapd_static_backends",
    command=Command.of("slapd", "-VVV", Raw("2>&1")),
    parse=parse_static_backends,
)


def database(config: SlapdConfig) -> Database | None:
    """The monitor database, when slapd has one."""
    return next((db for db in config.databases if _DATABASE_DN.match(db.dn)), None)


def _words(acl: str) -> list[str]:
    return acl.replace('"', "").split()


def changes(config: SlapdConfig, static: frozenset[str]) -> str:
    """The LDIF that makes slapd's monitor database as wanted ("" when it is)."""
    found = database(config)
    if found is not None:
        if [_words(a) for a in found.access] == [_words(ACCESS)]:
            return ""
        return f"dn: {found.dn}\nchangetype: modify\nreplace: olcAccess\nolcAccess: {ACCESS}\n"
    parts = []
    if "monitor" not in static and MODULE not in config.modules:
        if config.module_dn is not None:
            parts.append(
                f"dn: {config.module_dn}\nchangetype: modify\n"
                f"add: olcModuleLoad\nolcModuleLoad: {MODULE}\n"
            )
        else:
            parts.append(
                f"dn: {_MODULE_LIST}\nchangetype: add\nobjectClass: olcModuleList\n"
                f"cn: module\nolcModuleLoad: {MODULE}\n"
            )
    parts.append(
        "dn: olcDatabase=monitor,cn=config\nchangetype: add\n"
        "objectClass: olcDatabaseConfig\nobjectClass: olcMonitorConfig\n"
        f"olcDatabase: monitor\nolcAccess: {ACCESS}\n"
    )
    return "\n".join(parts)


# Root reads cn=monitor over ldapi; an anonymous search over ldapi finds nothing there.
_READABLE_BY_ROOT_ONLY = """\
ldapsearch $LDAPI -LLL -b "$1" -s base 1.1 | grep -qi '^dn:' || {
  echo "root cannot read $1 over ldapi" >&2; exit 1; }
if ldapsearch -x -LLL -H ldapi:/// -b "$1" -s base 1.1 2>/dev/null | grep -qi '^dn:'; then
  echo "$1 is readable anonymously" >&2; exit 1
fi
"""


def readable_by_root_only() -> Command:
    """Exit 0 when root reads ``cn=monitor`` over ldapi and an anonymous search does not."""
    return root_script(_READABLE_BY_ROOT_ONLY, SUFFIX)
