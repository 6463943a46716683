"""Three identity nodes: every node replicates from both others, and re-applying changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from clustermgr.plan.events import Event
from clustermgr.plan.model import Outcome
from clustermgr.services import ldap
from clustermgr.services.context import Manager
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

NODES = ("idp1", "idp2", "idp3")
LDAPI = "ldapsearch -Q -LLL -Y EXTERNAL -H ldapi:///"
ADD = "ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own (not the two-node one): three providers need a third node."""
    prefix, subnet = SLOT.spare("cl3", 238)
    base = tmp_path_factory.mktemp("ldap3-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=3) as running:
        yield running


async def apply(lab: Lab, events: list[Event]) -> dict[str, object]:
    manager = await Manager.open(lab.settings)
    try:
        report = await ldap.replicate(
            manager, lab.config.cluster, dry_run=False, emit=events.append
        )
    finally:
        await manager.close()
    return report.as_dict()


async def wait_for(lab: Lab, node: str, dn: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = await lab.sh(node, f'{LDAPI} -b "$1" -s base dn 2>/dev/null || true', dn)
        if dn in out:
            return
        assert time.monotonic() < deadline, f"{dn} not on {node} after {timeout} s"
        await asyncio.sleep(0.2)


async def test_three_providers(lab: Lab) -> None:
    events: list[Event] = []
    first = await apply(lab, events)
    assert first["ok"], json.dumps(first, indent=1)

    for node in NODES:
        name = f"from-{node}"
        await lab.sh(
            node,
            f'printf "dn: ou=%s,o=gluu\\nobjectClass: organizationalUnit\\nou: %s\\n" "$1" "$1"'
            f" | {ADD}",
            name,
        )
        for other in NODES:
            if other != node:
                await wait_for(lab, other, f"ou={name},o=gluu")

    second = await apply(lab, events)
    counts = second["counts"]
    assert counts == {**{o.value: 0 for o in Outcome}, "unchanged": counts["unchanged"]}, second

    for node in NODES:
        line = await lab.sh(node, "grep ^servers: /etc/gluu/conf/ox-ldap.properties")
        servers = [s.strip() for s in line.split(":", 1)[1].split(",")]
        assert servers[0] == f"{node}.lab.test:389", line
        peers = {f"{n}.lab.test:389" for n in NODES if n != node}
        assert set(servers[1:]) == peers and len(servers) == 3, line

    # Status: every node has caught up with both peers (contextCSN per server id).
    deadline = time.monotonic() + 30
    while True:
        status = await lab_status(lab)
        pairs = status["pairs"]
        assert isinstance(pairs, list) and len(pairs) == 6, status
        if all(p["caught_up"] for p in pairs):
            break
        assert time.monotonic() < deadline, json.dumps(status, indent=1)
        await asyncio.sleep(0.5)
    ids = status["server_ids"]
    assert isinstance(ids, dict) and len(set(ids.values())) == 3, status


async def lab_status(lab: Lab) -> dict[str, object]:
    manager = await Manager.open(lab.settings)
    try:
        return await ldap.status(manager, lab.config.cluster, probe=False)
    finally:
        await manager.close()
