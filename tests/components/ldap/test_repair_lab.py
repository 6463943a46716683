"""Issue 5, repair: compare the nodes' data, re-initialise a node from a healthy peer,
and reload a node that left the cluster and came back.

The tests run in order on one lab of their own (three identity nodes, real slapd)
and build on each other: each leaves the cluster replicating and identical.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from cli_runner import assert_clean
from clustermgr.components.ldap import apply as ldap
from clustermgr.components.ldap import reload
from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap.compare import Comparison
from clustermgr.core.access import HostAccess
from clustermgr.core.manager import Manager
from clustermgr.lab import service
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.services import servers
from labfixture import SLOT, Lab, running_lab
from ldaplab import ADD, LDAPI, add_ou, ldap_status, replicate, slapadd_unreplicated, wait_for
from polling import eventually

pytestmark = pytest.mark.integration

NODES = ("idp1", "idp2", "idp3")
BRANCH = "ou=repairs,o=gluu"
MODIFY = "ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own: these tests break nodes' data on purpose."""
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap-repair-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=3) as running:
        yield running


def fqdn(lab: Lab, name: str) -> str:
    return lab.host(name).fqdn


async def compare(lab: Lab) -> Comparison:
    manager = await Manager.open(lab.settings)
    try:
        return await ldap_repair.compare(manager, lab.config.cluster)
    finally:
        await manager.close()


async def identical(lab: Lab, timeout: float = 30) -> Comparison:
    """Poll until every node holds the same data (replication may still be catching up)."""
    return await eventually(
        lambda: compare(lab),
        until=lambda result: result.identical,
        timeout=timeout,
        interval=0.5,
        what="the nodes hold different data",
        show=lambda result: json.dumps(result.as_dict(), indent=1),
    )


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


async def cli(lab: Lab, *args: str) -> Ran:
    """The real ``clustermgr`` command on the lab's manager data, as a user runs it."""
    env = {
        **os.environ,
        "CLUSTERMGR_DATA_DIR": str(lab.settings.data_dir),
        "CLUSTERMGR_CONNECT_TIMEOUT": "5",
        "CLUSTERMGR_COMMAND_TIMEOUT": "60",
    }
    env.pop("CLUSTERMGR_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clustermgr",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode is not None
    assert_clean(args, out.decode(), err.decode())
    return Ran(proc.returncode, out.decode(), err.decode())


async def value(lab: Lab, node: str, dn: str, attr: str) -> str:
    out = await lab.sh(node, f'{LDAPI} -o ldif-wrap=no -b "$1" -s base "$2"', dn, attr)
    return "\n".join(line for line in out.splitlines() if line.lower().startswith(attr.lower()))


async def exists(lab: Lab, node: str, dn: str) -> bool:
    out = await lab.sh(node, f'{LDAPI} -b "$1" -s base dn 2>/dev/null || true', dn)
    return dn in out


def inside(lab: Lab, node: str, script: str) -> None:
    """Run a script inside the host's namespaces (works while it is partitioned)."""
    status = service.exec_in(lab.config, node, ["sh", "-c", script])
    assert status == 0, f"{script!r} exited {status} on {node}"


def ou_ldif(name: str, parent: str = BRANCH) -> str:
    return f"dn: ou={name},{parent}\\nobjectClass: organizationalUnit\\nou: {name}\\n"


async def replicates_both_ways(lab: Lab, node: str, tag: str) -> None:
    await add_ou(lab, node, f"{tag}-from-{node}")
    for other in NODES:
        if other != node:
            await wait_for(lab, other, f"ou={tag}-from-{node},o=gluu")
            await add_ou(lab, other, f"{tag}-from-{other}")
            await wait_for(lab, node, f"ou={tag}-from-{other},o=gluu")


async def test_compare_after_setup_is_identical(lab: Lab) -> None:
    result = await replicate(lab)
    assert result["ok"], json.dumps(result, indent=1)
    await add_ou(lab, "idp1", "repairs")
    for node in NODES:
        await wait_for(lab, node, BRANCH)
    same = await identical(lab)
    hosts = [n.host for n in same.nodes]
    assert sorted(hosts) == sorted(fqdn(lab, n) for n in NODES)
    counts = same.nodes[0].counts
    assert counts["o=gluu"] == 1 and counts[BRANCH] == 1 and counts["ou=people,o=gluu"] >= 1

    ran = await cli(lab, "ldap", "compare", lab.config.cluster, "--json")
    assert ran.code == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["verdict"] == "identical" and data["differing_subtrees"] == []
    assert "SSHA" not in ran.stdout and "userPassword" not in ran.stdout
    ran = await cli(lab, "ldap", "compare", lab.config.cluster)
    assert ran.code == 0 and "identical" in ran.stdout, ran.stderr


async def test_partitioned_conflicting_writes_converge(lab: Lab) -> None:
    conflict = f"ou=conflict,{BRANCH}"
    await lab.sh("idp1", f'printf "{ou_ldif("conflict")}" | {ADD}')
    for node in NODES:
        await wait_for(lab, node, conflict)

    lab.partition("idp3")
    try:
        change = "dn: {dn}\\nchangetype: modify\\nreplace: description\\ndescription: {v}\\n"
        await lab.sh("idp1", f'printf "{change.format(dn=conflict, v="from-idp1")}" | {MODIFY}')
        await lab.sh("idp1", f'printf "{ou_ldif("only-idp1")}" | {ADD}')
        await asyncio.sleep(0.05)  # idp3's change is the newer one
        inside(lab, "idp3", f'printf "{change.format(dn=conflict, v="from-idp3")}" | {MODIFY}')
        inside(lab, "idp3", f'printf "{ou_ldif("only-idp3")}" | {ADD}')
    finally:
        lab.heal("idp3")

    for node in NODES:
        await wait_for(lab, node, f"ou=only-idp1,{BRANCH}")
        await wait_for(lab, node, f"ou=only-idp3,{BRANCH}")
    await csn_in_sync(lab)
    found = await compare(lab)
    if not found.identical:
        # slapd 2.5.13's delta-syncrepl applies idp1's older replace on idp3 over
        # idp3's newer one, and keeps the newer entryCSN: every contextCSN and entryCSN
        # agree, the values do not.  Compare names exactly that entry; reinit repairs it.
        (tree,) = found.subtrees
        assert tree.subtree == BRANCH, found.as_dict()
        odd = [n for n in found.nodes if n.entries]
        assert [(e.kind, e.dn) for n in odd for e in n.entries] == [("different", conflict)] * len(
            odd
        ), found.as_dict()
        good = next(n.host for n in found.nodes if not n.entries)
        for differing in odd:
            report = await reinit(lab, differing.host, good)
            assert report.ok, [(r.title, r.outcome, r.reason) for r in report.all()]
    same = await identical(lab)
    assert same.verdict == "identical"
    values = {node: await value(lab, node, conflict, "description") for node in NODES}
    assert len(set(values.values())) == 1, values
    assert set(values.values()) <= {"description: from-idp1", "description: from-idp3"}, values


async def csn_in_sync(lab: Lab, timeout: float = 30) -> None:
    await eventually(
        lambda: ldap_status(lab),
        until=lambda status: status["context_csn_equal"],
        timeout=timeout,
        interval=0.5,
        what="contextCSNs never became equal",
    )
    await asyncio.sleep(1)  # the last change's entry may be written just after the CSN


async def reinit(lab: Lab, node: str, source: str) -> ApplyReport:
    manager = await Manager.open(lab.settings)
    try:
        return await ldap_repair.reinit(
            manager, lab.config.cluster, node, source, approve=lambda _: True
        )
    finally:
        await manager.close()


async def test_divergence_is_found_and_reinit_repairs_it(lab: Lab) -> None:
    stray = f"ou=stray,{BRANCH}"
    before = await ldap_status(lab)
    # Written straight into idp3's database, no CSN bookkeeping (no -w): replication
    # never hears of it and contextCSNs stay equal.
    await slapadd_unreplicated(lab, "idp3", stray)
    after = await ldap_status(lab)
    assert after["context_csn_equal"] and before["nodes"] == after["nodes"], after

    found = await compare(lab)
    assert found.verdict == "different"
    idp3 = fqdn(lab, "idp3")
    (tree,) = found.subtrees
    assert tree.subtree == BRANCH and tree.nodes == (idp3,)
    by_host = {n.host: n for n in found.nodes}
    assert [(e.kind, e.dn) for e in by_host[idp3].entries] == [("extra", stray)]
    assert all(not n.entries for h, n in by_host.items() if h != idp3)
    ran = await cli(lab, "ldap", "compare", lab.config.cluster)
    assert ran.code == 1 and stray in ran.stdout and BRANCH in ran.stdout, ran.stderr

    # Fresh changes on the source, the last a modify: its export's contextCSN (the last
    # checkpoint) would predate them, and idp3 would replay them onto data that holds them.
    twice = f"ou=twice,{BRANCH}"
    await lab.sh("idp1", f'printf "{ou_ldif("twice")}" | {ADD}')
    for v in ("one", "two"):
        change = f"dn: {twice}\\nchangetype: modify\\nreplace: description\\ndescription: {v}\\n"
        await lab.sh("idp1", f'printf "{change}" | {MODIFY}')
    ran = await cli(
        lab, "ldap", "reinit", lab.config.cluster, idp3, "--from", fqdn(lab, "idp1"), "--yes"
    )
    assert ran.code == 0, ran.stderr
    assert "1 extra" in ran.stderr and "is lost" in ran.stderr, ran.stderr
    assert not await exists(lab, "idp3", stray)
    await identical(lab)
    assert await value(lab, "idp3", twice, "description") == "description: two"
    backup = await lab.sh("idp3", "ls -d /var/lib/ldap*.clustermgr-prev 2>/dev/null || true")
    assert backup.strip() == "", "the backup goes once the node converged"
    await replicates_both_ways(lab, "idp3", "after-reinit")
    await identical(lab)


async def test_reinit_refuses_bad_requests(lab: Lab) -> None:
    cluster, idp1, idp2 = lab.config.cluster, fqdn(lab, "idp1"), fqdn(lab, "idp2")
    unconfirmed = await cli(lab, "ldap", "reinit", cluster, idp2, "--from", idp1)
    assert unconfirmed.code == 2, unconfirmed.stderr
    assert "not confirmed" in unconfirmed.stderr and "is lost" in unconfirmed.stderr

    itself = await cli(lab, "ldap", "reinit", cluster, idp2, "--from", idp2, "--yes")
    assert itself.code == 2 and "from itself" in itself.stderr, itself.stderr

    unknown = await cli(lab, "ldap", "reinit", cluster, "nosuch.lab.test", "--from", idp1, "--yes")
    assert unknown.code == 2 and "not an identity server" in unknown.stderr, unknown.stderr
    as_json = await cli(lab, "ldap", "reinit", cluster, idp2, "--from", "nosuch", "--yes", "--json")
    assert as_json.code == 2 and json.loads(as_json.stdout)["error"] == "invalid_input"
    await identical(lab)


async def test_failed_load_restores_the_previous_data(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await identical(lab)

    async def broken(access: HostAccess, source: str) -> bytes:
        return b"dn: o=gluu\nthis is not LDIF\n"

    monkeypatch.setattr(ldap, "export_directory", broken)
    report = await reinit(lab, fqdn(lab, "idp1"), fqdn(lab, "idp2"))
    (load,) = report.results[fqdn(lab, "idp1")]
    assert load.outcome is Outcome.FAILED and not report.ok, report.as_dict()
    assert "rolled back" in load.reason, load.reason

    after = await identical(lab)
    assert [n.counts for n in after.nodes] == [n.counts for n in before.nodes]
    await replicates_both_ways(lab, "idp1", "after-failed-load")


async def test_reinit_discards_writes_that_never_left_the_node(lab: Lab) -> None:
    lost = f"ou=lost-write,{BRANCH}"
    lab.partition("idp2")
    try:
        # A restart first: the peers' sessions to idp2 close, so no update of the write
        # waits in a socket buffer to be delivered once the cable is back.
        inside(lab, "idp2", f"service slapd restart >/dev/null && {reload.SERVES.render()}")
        inside(lab, "idp2", f'printf "{ou_ldif("lost-write")}" | {ADD}')
        inside(lab, "idp2", "service slapd stop >/dev/null")
    finally:
        lab.heal("idp2")
    # idp2's accesslog now holds a write nobody else has; slapd there is down.
    idp2 = fqdn(lab, "idp2")
    ran = await cli(
        lab, "ldap", "reinit", lab.config.cluster, idp2, "--from", fqdn(lab, "idp3"), "--yes"
    )
    assert ran.code == 0, ran.stderr
    assert "cannot be read now" in ran.stderr, ran.stderr
    # Peers reconnect to idp2 and read its accesslog: the lost write must not come back.
    await replicates_both_ways(lab, "idp2", "after-lost-write")
    for node in NODES:
        assert not await exists(lab, node, lost), node
    await identical(lab)


async def test_a_node_back_after_removal_is_reloaded(lab: Lab) -> None:
    stale = f"ou=stale,{BRANCH}"
    manager = await Manager.open(lab.settings)
    try:
        await servers.remove_server(manager, lab.config.cluster, fqdn(lab, "idp3"))
    finally:
        await manager.close()
    result = await replicate(lab)
    assert result["ok"], json.dumps(result, indent=1)
    # Outside the cluster, idp3 takes a write nobody pulls from it any more.
    inside(lab, "idp3", f'printf "{ou_ldif("stale")}" | {ADD}')
    await add_ou(lab, "idp1", "while-idp3-away")
    await wait_for(lab, "idp2", "ou=while-idp3-away,o=gluu")

    await service.register(lab.config, lab.settings)
    result = await replicate(lab)
    assert result["ok"], json.dumps(result, indent=1)
    hosts = result["hosts"]
    assert isinstance(hosts, dict)
    titles = {r["title"]: r["outcome"] for r in hosts[fqdn(lab, "idp3")]}
    assert titles["stop replicating with the old membership"] == "changed", titles
    assert titles["load o=gluu from the replicating source"] == "changed", titles

    await wait_for(lab, "idp3", "ou=while-idp3-away,o=gluu")
    for node in NODES:
        assert not await exists(lab, node, stale), node
    await identical(lab)
    await replicates_both_ways(lab, "idp3", "after-rejoin")
    again = await replicate(lab)
    assert again["ok"] and again["counts"]["changed"] == 0, json.dumps(again, indent=1)
