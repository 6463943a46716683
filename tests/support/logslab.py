"""Helpers of the logs lab tests: what the logs stage changes on the lab, put back."""

from __future__ import annotations

from clustermgr.components.logs.program import FOLLOWER_PATH
from clustermgr.components.logs.settingsstore import COMPONENT
from clustermgr.core.manager import Manager
from clustermgr.topology import Role
from labfixture import Lab

#: slapd's log level values, one a line.
LOG_LEVEL = (
    "ldapsearch -Q -Y EXTERNAL -H ldapi:/// -LLL -o ldif-wrap=no -b cn=config -s base "
    "olcLogLevel | sed -n 's/^olcLogLevel: //p'"
)
RESTORE_LEVEL = """\
printf 'dn: cn=config\\nchangetype: modify\\nreplace: olcLogLevel\\nolcLogLevel: %s\\n' "$1" \
  | ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null
"""


async def slapd_levels(lab: Lab) -> dict[str, list[str]]:
    """Each identity node's slapd log level values."""
    identity = [h.name for h in lab.config.hosts() if h.role is Role.IDENTITY]
    return {name: (await lab.sh(name, LOG_LEVEL)).split() for name in identity}


async def put_back(lab: Lab, levels: dict[str, list[str]]) -> None:
    """slapd's log levels as ``levels`` says, no follower, no applied mark."""
    for name, values in levels.items():
        await lab.sh(name, RESTORE_LEVEL, values[0] if values else "none")
    for host in lab.config.hosts():
        await lab.sh(host.name, 'rm -f "$1"', FOLLOWER_PATH)
    manager = await Manager.open(lab.settings)
    try:
        async with manager.store() as store:
            store.set_component_settings(await store.cluster(lab.config.cluster), COMPONENT, {})
    finally:
        await manager.close()
