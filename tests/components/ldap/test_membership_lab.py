"""Issue 5, membership changes: a node added later gets every entry, a removed node leaves
no agreement or server id behind, and a broken replicator password is reported and repaired.

The tests run in order on one lab of their own (three identity nodes) and build on
each other: idp3 starts outside the inventory, joins, then leaves again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.ldap import render
from clustermgr.components.ldap.model import REPLICATOR_DN
from clustermgr.core.manager import Manager
from clustermgr.lab import service
from clustermgr.services import servers
from labfixture import SLOT, Lab, running_lab
from ldaplab import LDAPI, add_ou, ldap_status, replicate, wait_for
from polling import eventually

pytestmark = pytest.mark.integration

MODIFY = "ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own: these tests take a node out of the cluster and back."""
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap-membership-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=3) as running:
        yield running


def fqdn(lab: Lab, name: str) -> str:
    return lab.host(name).fqdn


async def apply(lab: Lab) -> dict[str, object]:
    result = await replicate(lab)
    assert result["ok"], json.dumps(result, indent=1)
    return result


async def remove(lab: Lab, name: str) -> None:
    manager = await Manager.open(lab.settings)
    try:
        await servers.remove_server(manager, lab.config.cluster, fqdn(lab, name))
    finally:
        await manager.close()


async def count(lab: Lab, node: str) -> int:
    """Entries under o=gluu (the probe branch excluded: status may be writing there)."""
    out = await lab.sh(
        node,
        f'{LDAPI} -b o=gluu "(!(|(ou=replication-probe)(ou=probe-*)))" dn | grep -c "^dn:"',
    )
    return int(out.strip())


async def equal_counts(lab: Lab, nodes: tuple[str, ...], timeout: float = 30) -> int:

    async def counts() -> dict[str, int]:
        return {n: await count(lab, n) for n in nodes}

    found = await eventually(
        counts,
        until=lambda c: len(set(c.values())) == 1,
        timeout=timeout,
        interval=0.5,
        what="entry counts differ",
    )
    return next(iter(found.values()))


async def config_of(lab: Lab, node: str) -> str:
    """olcServerID and olcSyncrepl of the node, credentials cut out before anyone sees them."""
    return await lab.sh(
        node,
        f'{LDAPI} -o ldif-wrap=no -b cn=config "(|(olcServerID=*)(olcSyncrepl=*))" '
        "olcServerID olcSyncrepl | sed 's/credentials=[^ ]*/credentials=*/'",
    )


async def test_added_node_gets_every_entry(lab: Lab) -> None:
    await remove(lab, "idp3")
    await apply(lab)
    for i in range(20):
        await add_ou(lab, "idp1" if i % 2 else "idp2", f"before-idp3-{i}")
    await wait_for(lab, "idp1", "ou=before-idp3-18,o=gluu")
    await wait_for(lab, "idp2", "ou=before-idp3-19,o=gluu")

    await service.register(lab.config, lab.settings)
    await apply(lab)

    total = await equal_counts(lab, ("idp1", "idp2", "idp3"))
    assert total >= 20
    await add_ou(lab, "idp3", "from-idp3")
    for node in ("idp1", "idp2"):
        await wait_for(lab, node, "ou=from-idp3,o=gluu")
    for node in ("idp1", "idp2"):
        await add_ou(lab, node, f"to-idp3-from-{node}")
        await wait_for(lab, "idp3", f"ou=to-idp3-from-{node},o=gluu")


async def test_wrong_replicator_password_is_reported_and_repaired(lab: Lab) -> None:
    before = await ldap_status(lab, probe=False)
    assert before["problems"] == [] and before["ok"], before
    nodes = before["nodes"]
    assert isinstance(nodes, list) and all(n["replicator_binds"] for n in nodes), before

    # Someone changes the replicator's password by hand on idp2; it replicates.
    wrong = render.ssha("not-the-cluster-password")
    await lab.sh(
        "idp2",
        f'printf "dn: %s\\nchangetype: modify\\nreplace: userPassword\\nuserPassword: %s\\n-\\n"'
        f' "$1" "$2" | {MODIFY}',
        REPLICATOR_DN,
        wrong,
    )
    broken = await eventually(
        lambda: ldap_status(lab, probe=False),
        until=lambda s: not any(n["replicator_binds"] for n in s["nodes"]),
        timeout=30,
        interval=0.5,
        what="the replicator still binds somewhere",
        show=lambda s: json.dumps(s, indent=1),
    )
    problems = broken["problems"]
    assert isinstance(problems, list) and len(problems) == 3, broken
    assert all("replicator cannot bind" in p for p in problems), problems
    assert broken["ok"] is False, "a status job with problems fails"
    assert "not-the-cluster-password" not in json.dumps(broken)

    await apply(lab)
    await eventually(
        lambda: ldap_status(lab, probe=False),
        until=lambda s: s["problems"] == [],
        timeout=30,
        interval=0.5,
        what="ldap status still has problems after apply",
        show=lambda s: json.dumps(s, indent=1),
    )
    await add_ou(lab, "idp2", "after-repair")
    for node in ("idp1", "idp3"):
        await wait_for(lab, node, "ou=after-repair,o=gluu")
    probed = await ldap_status(lab, probe=True)
    assert probed["probe_seconds"] is not None and probed["problems"] == [], probed


async def test_removed_node_leaves_no_agreement(lab: Lab) -> None:
    ids = (await ldap_status(lab, probe=False))["server_ids"]
    assert isinstance(ids, dict)
    idp3 = fqdn(lab, "idp3")
    old_id = ids[idp3]
    config = await config_of(lab, "idp1")
    assert f"provider=ldap://{idp3}:389" in config and f"olcServerID: {old_id} " in config, config

    await remove(lab, "idp3")
    await apply(lab)
    for node in ("idp1", "idp2"):
        config = await config_of(lab, node)
        assert idp3 not in config, config
        assert f"olcServerID: {old_id} " not in config, config
        assert "olcSyncrepl:" in config, config
    await add_ou(lab, "idp1", "after-removal-1")
    await wait_for(lab, "idp2", "ou=after-removal-1,o=gluu")
    await add_ou(lab, "idp2", "after-removal-2")
    await wait_for(lab, "idp1", "ou=after-removal-2,o=gluu")

    # Back in the inventory, idp3 is a new server: its old id stays retired.
    await service.register(lab.config, lab.settings)
    again = (await ldap_status(lab, probe=False))["server_ids"]
    assert isinstance(again, dict) and again[idp3] not in ids.values(), again
