"""Three identity nodes: every node replicates from both others, and re-applying changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.core.manager import Manager
from clustermgr.plan.events import Event
from clustermgr.plan.model import Outcome
from labfixture import SLOT, Lab, running_lab
from ldaplab import add_ou, ldap_status, replicate, wait_for

pytestmark = pytest.mark.integration

NODES = ("idp1", "idp2", "idp3")


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own (not the two-node one): three providers need a third node."""
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap3-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=3) as running:
        yield running


async def test_three_providers(lab: Lab) -> None:
    events: list[Event] = []
    first = await replicate(lab, events)
    assert first["ok"], json.dumps(first, indent=1)

    for node in NODES:
        name = f"from-{node}"
        await add_ou(lab, node, name)
        for other in NODES:
            if other != node:
                await wait_for(lab, other, f"ou={name},o=gluu")

    second = await replicate(lab, events)
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
        status = await ldap_status(lab)
        pairs = status["pairs"]
        assert isinstance(pairs, list) and len(pairs) == 6, status
        if all(p["caught_up"] for p in pairs):
            break
        assert time.monotonic() < deadline, json.dumps(status, indent=1)
        await asyncio.sleep(0.5)
    ids = status["server_ids"]
    assert isinstance(ids, dict) and len(set(ids.values())) == 3, status


async def test_compare_reads_past_the_default_size_limit(lab: Lab) -> None:
    """slapd stops a search at 500 entries unless a limit says otherwise: apply lifts it
    for root over ldapi, so compare sees every entry (without it, compare is incomplete)."""
    assert (await replicate(lab))["ok"]
    await lab.sh(
        "idp1",
        "for i in $(seq 1 600); do printf 'dn: ou=many%s,o=gluu\\nobjectClass: organizationalUnit"
        "\\nou: many%s\\n\\n' $i $i; done | ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null",
    )
    for node in NODES[1:]:
        await wait_for(lab, node, "ou=many600,o=gluu")
    manager = await Manager.open(lab.settings)
    try:
        deadline = time.monotonic() + 30
        while True:
            result = await ldap_repair.compare(manager, lab.config.cluster)
            if result.identical or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await manager.close()
    assert result.identical, json.dumps(result.as_dict(), indent=1)
    for node in result.nodes:
        assert sum(node.counts.values()) > 600, node.as_dict()
