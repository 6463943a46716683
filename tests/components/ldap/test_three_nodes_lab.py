"""Three identity nodes: every node replicates from both others, and re-applying changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.core.manager import Manager
from clustermgr.plan.events import Event
from clustermgr.plan.model import Outcome
from labfixture import SLOT, Lab, running_lab
from ldaplab import add_ou, ldap_status, replicate, wait_for
from polling import eventually

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

    def caught_up(status: dict[str, object]) -> bool:
        pairs = status["pairs"]
        assert isinstance(pairs, list) and len(pairs) == 6, status
        return all(p["caught_up"] for p in pairs)

    status = await eventually(
        lambda: ldap_status(lab),
        until=caught_up,
        timeout=30,
        interval=0.5,
        what="a node has not caught up with its peers",
        show=lambda s: json.dumps(s, indent=1),
    )
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
        result = await eventually(
            lambda: ldap_repair.compare(manager, lab.config.cluster),
            until=lambda r: r.identical,
            timeout=30,
            interval=1,
            what="compare finds differences",
            show=lambda r: json.dumps(r.as_dict(), indent=1),
        )
    finally:
        await manager.close()
    for compared in result.nodes:
        assert sum(compared.counts.values()) > 600, compared.as_dict()
