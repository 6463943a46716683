"""Helpers of the LDAP replication tests: apply, status, and entries on lab nodes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from clustermgr.components.ldap import apply as ldap
from clustermgr.core.manager import Manager
from clustermgr.plan.events import Event
from labfixture import Lab

LDAPI = "ldapsearch -Q -LLL -Y EXTERNAL -H ldapi:///"
ADD = "ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null"


async def replicate(lab: Lab, events: list[Event] | None = None, **kw: Any) -> dict[str, object]:
    """`ldap apply` on the lab's cluster; the report as a dict."""
    manager = await Manager.open(lab.settings)
    try:
        report = await ldap.apply(
            manager,
            lab.config.cluster,
            dry_run=False,
            emit=events.append if events is not None else lambda _: None,
            **kw,
        )
    finally:
        await manager.close()
    return report.as_dict()


async def ldap_status(lab: Lab, *, probe: bool = False) -> dict[str, object]:
    manager = await Manager.open(lab.settings)
    try:
        return (await ldap.status(manager, lab.config.cluster, probe=probe)).as_dict()
    finally:
        await manager.close()


async def add_ou(lab: Lab, node: str, name: str) -> None:
    """Write ``ou=NAME,o=gluu`` on one node."""
    await lab.sh(
        node,
        f'printf "dn: ou=%s,o=gluu\\nobjectClass: organizationalUnit\\nou: %s\\n" "$1" "$1"'
        f" | {ADD}",
        name,
    )


async def wait_for(lab: Lab, node: str, dn: str, timeout: float = 30) -> None:
    """Poll until ``dn`` exists on ``node``, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        out = await lab.sh(node, f'{LDAPI} -b "$1" -s base dn 2>/dev/null || true', dn)
        if dn in out:
            return
        assert time.monotonic() < deadline, f"{dn} not on {node} after {timeout} s"
        await asyncio.sleep(0.2)


async def slapadd_unreplicated(lab: Lab, node: str, dn: str) -> None:
    """Load ``dn`` (an organizationalUnit) on ``node`` with slapd stopped: replication never
    hears of it and the contextCSNs stay equal, so only a data comparison finds it."""
    name = dn.split(",", 1)[0].split("=", 1)[1]
    ldif = f"dn: {dn}\\nobjectClass: organizationalUnit\\nou: {name}\\n"
    await lab.sh(
        node,
        "set -e; dir=$(ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H ldapi:/// -b cn=config"
        ' "(olcSuffix=o=gluu)" olcDbDirectory | sed -n "s/^olcDbDirectory: //p");'
        f' service slapd stop >/dev/null; printf "{ldif}" | slapadd -q -b o=gluu;'
        ' chown -R openldap:openldap "$dir"; service slapd start >/dev/null',
    )
    await wait_for(lab, node, dn)
