"""slapd's log level, ``olcLogLevel`` of ``cn=config`` (read as root over ldapi)."""

from __future__ import annotations

from clustermgr.facts.base import Fact
from clustermgr.facts.ldap import ldapsearch_root, root_script
from clustermgr.facts.ldif import parse_ldif
from clustermgr.remote.command import Command

CONFIG_DN = "cn=config"


def parse_log_level(stdout: str) -> tuple[str, ...]:
    """The values of ``olcLogLevel`` in ``cn=config`` (none when slapd has none)."""
    for dn, attrs in parse_ldif(stdout):
        if dn.lower() == CONFIG_DN:
            return tuple(attrs.get("olcloglevel", []))
    return ()


LOG_LEVEL: Fact[tuple[str, ...]] = Fact(
    name="slapd_log_level",
    command=ldapsearch_root("-b", CONFIG_DN, "-s", "base", "olcLogLevel"),
    parse=parse_log_level,
)


def set_log_level(level: str) -> str:
    """The LDIF (``ldapmodify`` input) that makes ``level`` (names separated by spaces)
    slapd's only log level: one value per name."""
    values = "".join(f"olcLogLevel: {name}\n" for name in level.split())
    return f"dn: {CONFIG_DN}\nchangetype: modify\nreplace: olcLogLevel\n{values}"


_HAS_LEVEL = """\
got=$(ldapsearch $LDAPI -LLL -o ldif-wrap=no -b cn=config -s base olcLogLevel \
  | sed -n 's/^olcLogLevel: //p' | tr ' ' '\\n' | tr '[:upper:]' '[:lower:]' | sort -u)
want=$(printf '%s\\n' $1 | tr '[:upper:]' '[:lower:]' | sort -u)
[ "$got" = "$want" ]
"""


def has_log_level(level: str) -> Command:
    """Exit 0 when slapd's log level is ``level``'s names (any case, any order)."""
    return root_script(_HAS_LEVEL, level)
