"""Adding and taking out identity nodes of a serving cluster, under a steady login loop.

A lab of its own with three identity nodes, idp3 left out of the inventory before the
install (a bare spare host); Gluu Server, LDAP replication, the cache and the balancer
set up on idp1 and idp2.  The tests run in order: idp3 joins; idp2 is taken out (and
uninstalled); idp3 loses power and is taken out untouched, and idp2 joins again in
its place.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cachelab import configure
from clustermgr.components import registry
from clustermgr.components.cache import plan, standby
from clustermgr.components.contract import lifecycle
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import NodeState, ServerSpec
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import (
    UNREACHABLE,
    LifecycleReport,
    NodeAddParams,
    NodeRemoveParams,
)
from clustermgr.lab import hosts
from clustermgr.plan.events import Event
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey
from clustermgr.services import servers
from clustermgr.topology import Role
from labfixture import SLOT, Lab, install_gluu, running_lab, tcp_open
from lblab import balance
from ldaplab import replicate
from loginloop import Failure, looping
from polling import eventually

pytestmark = pytest.mark.integration

RATE = 4


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("lifecycle-lab")
    async with running_lab(
        base, gluu=False, prefix=prefix, subnet=subnet, identity_nodes=3
    ) as running:
        async with _manager(running) as manager:
            idp3 = running.host("idp3").fqdn
            await servers.remove_server(manager, running.config.cluster, idp3)
        await install_gluu(running)
        for step in (replicate, configure, balance):
            report = await step(running)
            assert report["ok"], (step.__name__, json.dumps(report, indent=1)[:4000])
        yield running


class _manager:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.manager: Manager | None = None

    async def __aenter__(self) -> Manager:
        self.manager = await Manager.open(self.lab.settings)
        return self.manager

    async def __aexit__(self, *exc: object) -> None:
        if self.manager is not None:
            await self.manager.close()


async def _join(manager: Manager, lab: Lab, name: str) -> None:
    """Put the lab host ``name`` in the inventory as joining, its host key pinned."""
    host = lab.host(name)
    key = servers.SshKeyInput(Secret.held(lab.config.ssh_key.read_text(), label="lab-ssh-key"))
    pinned = HostKey.from_openssh(hosts.host_key_line(lab.config, host))
    spec = ServerSpec(
        lab.config.cluster, host.fqdn, host.address, Role.IDENTITY, state=NodeState.JOINING
    )
    await servers.add_server(manager, spec, key, host_keys=[pinned], actor="tester")


def _ctx(manager: Manager, lab: Lab, params: Any, events: list[Event]) -> JobContext[Any]:
    return JobContext(
        manager, lab.config.cluster, params, events.append, lambda: False, actor="tester"
    )


#: Every lifecycle job's events, for the failures' context.
EVENTS: list[Event] = []


def _around(summary: str, started: float) -> str:
    """The loop's summary, then the job's events within 3 s of a failure (``started``:
    the loop's start, wall clock; a token no other node could validate is no failure)."""
    lines = [line for line in summary.splitlines()[1:] if NO_OTHER not in line]
    failed = [started + float(line.split("s ", 1)[0]) for line in lines]
    near = [e for e in EVENTS if any(abs(e.at - at) < 3 for at in failed)]
    lines = [summary, *(f"failure at {at:.2f}" for at in failed)]
    lines += [f"{e.at:.2f} {e.host or ''} {e.kind.value} {e.message}" for e in near]
    return "\n".join(lines)


async def _add(lab: Lab, name: str) -> tuple[LifecycleReport, float]:
    events = EVENTS
    async with _manager(lab) as manager:
        await _join(manager, lab, name)
        started = time.monotonic()
        params = NodeAddParams(node=lab.host(name).fqdn)
        report = await lifecycle(registry.COMPONENTS).add(_ctx(manager, lab, params, events))
    return report, time.monotonic() - started


async def _remove(lab: Lab, name: str, *, uninstall: bool) -> tuple[LifecycleReport, float]:
    events = EVENTS
    async with _manager(lab) as manager:
        started = time.monotonic()
        params = NodeRemoveParams(node=lab.host(name).fqdn, uninstall=uninstall)
        report = await lifecycle(registry.COMPONENTS).remove(_ctx(manager, lab, params, events))
    return report, time.monotonic() - started


async def _inventory(lab: Lab) -> dict[str, NodeState]:
    async with _manager(lab) as manager:
        view = await get_cluster(manager, lab.config.cluster)
    return {s.hostname.split(".", 1)[0]: s.state for s in view.servers if s.role is Role.IDENTITY}


def _shown(report: LifecycleReport) -> str:
    """Each part's outcome, and the steps that did not go well."""
    lines = [f"{report.kind} {report.node}: {report.state} {report.problem} {report.notes}"]
    for part in report.parts:
        lines.append(f"{part.phase} {part.name}: {part.status.value} {part.note}")
        shown = part.report.as_dict() if part.report is not None else {}
        for host, rows in shown.get("hosts", {}).items():
            for row in rows:
                if row.get("outcome") in ("failed", "skipped"):
                    lines.append(f"  {host}: {row.get('title')}: {row.get('reason')}")
    return "\n".join(lines)


async def test_an_added_node_serves_logins_and_validates_the_others_tokens(lab: Lab) -> None:
    async with looping(lab, ["idp1", "idp2"], rate=RATE) as loop:
        started = time.time()
        await loop.wait_logins(4)
        report, seconds = await _add(lab, "idp3")
        assert report.ok, _shown(report)
        loop.validators.add("idp3")
        before = loop.validated_on["idp3"]

        async def idp3_serves() -> bool:
            assert loop.issued_by["idp3"] >= 2, loop.summary()
            assert loop.validated_on["idp3"] >= before + 2, loop.summary()
            return True

        await eventually(idp3_serves, timeout=60, ignore=(AssertionError,))
    assert loop.failures == [], _around(loop.summary(), started)
    assert await _inventory(lab) == {
        "idp1": NodeState.MEMBER,
        "idp2": NodeState.MEMBER,
        "idp3": NodeState.MEMBER,
    }
    print(f"added idp3 in {seconds:.1f} s; {loop.summary()}")


async def test_a_removed_node_costs_no_request(lab: Lab) -> None:
    async with looping(lab, ["idp1", "idp3"], rate=RATE) as loop:
        started = time.time()
        await loop.wait_logins(4)
        report, seconds = await _remove(lab, "idp2", uninstall=True)
        assert report.ok and report.reachable, _shown(report)
        issued = loop.issued_by["idp2"]
        await loop.wait_logins(8)
        assert loop.issued_by["idp2"] == issued, "the balancer sends it nothing"
    assert loop.failures == [], _around(loop.summary(), started)
    assert "idp2" not in await _inventory(lab)
    assert not tcp_open(lab.host("idp2").address, 443), "Gluu Server was uninstalled"
    print(f"removed idp2 in {seconds:.1f} s; {loop.summary()}")


NO_OTHER = "no other node to validate on"


def _alone(failures: list[Failure]) -> list[Failure]:
    """The failures but those of a token nobody else can validate: while one node is
    left, the loop has no other node to validate its tokens on."""
    return [f for f in failures if f.detail != NO_OTHER]


async def test_a_dead_node_is_replaced_and_the_cluster_keeps_serving(lab: Lab) -> None:
    # idp3 loses power; idp1 is left alone until idp2 joins again: its tokens have no
    # other node to be validated on meanwhile (not counted), every login counts.
    async with looping(lab, ["idp1"], rate=RATE) as outage:
        await outage.wait_logins(4)
        lab.stop("idp3", power_cut=True)
        report, seconds = await _remove(lab, "idp3", uninstall=True)
        assert report.ok and not report.reachable, _shown(report)
        assert report.notes == (f"{lab.host('idp3').fqdn} is {UNREACHABLE}",)
        during = _alone(outage.failures)
        taken_out = len(outage.failures)
        await outage.wait_logins(8)
    print(
        f"idp3 lost power; taken out in {seconds:.1f} s; {len(during)} failed logins until "
        f"then; the outage loop: {outage.summary()}"
    )
    # Until the job took it out, a login whose session key hashes to the dead node's
    # Redis may fail (its share of the cache is gone; a login the balancer sent to it
    # goes to the next node).  Once it is out: none.
    assert all(f.what == "login" and "Redis" in f.detail for f in during), outage.summary()
    assert _alone(outage.failures[taken_out:]) == [], outage.summary()
    assert "idp3" not in await _inventory(lab)

    async with looping(lab, ["idp1"], rate=RATE) as loop:
        started = time.time()
        await loop.wait_logins(4)
        added, add_seconds = await _add(lab, "idp2")
        assert added.ok, _shown(added)
        loop.validators.add("idp2")
        alone = len(loop.failures)

        async def idp2_serves() -> bool:
            assert loop.issued_by["idp2"] >= 2 and loop.validated_on["idp2"] >= 2, loop.summary()
            assert loop.validated_on["idp1"] >= 2, loop.summary()
            return True

        await eventually(idp2_serves, timeout=60, ignore=(AssertionError,))
    assert _alone(loop.failures) == [], _around(loop.summary(), started)
    assert loop.failures[alone:] == [], "once idp2 joined, every token validates on the other"
    assert await _inventory(lab) == {"idp1": NodeState.MEMBER, "idp2": NodeState.MEMBER}
    print(f"added idp2 in its place in {add_seconds:.1f} s; {loop.summary()}")


async def test_the_proxy_restarts_twemproxy_and_reloads_its_tls_server_losing_no_login(
    lab: Lab,
) -> None:
    """What a node joining or leaving does on the proxy, ten times each under 25 logins
    a second: twemproxy restarted with a standby taking the new connections, the TLS
    server reloaded on its held listener.  Afterwards the TLS server's file is as the
    apply wrote it and no standby runs (benchmarks/proxy_changes.py: the same, longer)."""
    tls_conf = "cat /etc/stunnel/held/clustermgr-twemproxy.conf"
    before = await lab.sh("proxy1", tls_conf)
    async with lab.access() as access:
        proxy = lab.host("proxy1").fqdn
        conn = await access.connection(proxy)
        services = (await access.platform(proxy)).services
        changes = (
            standby.restart_with_standby(services),
            *plan.reload(services, "clustermgr-twemproxy"),
        )
        async with looping(lab, ["idp1", "idp2"], rate=25) as loop:
            started = time.time()
            await loop.wait_logins(25)
            for _ in range(10):
                for change in changes:
                    (await conn.run(change)).check()
                await asyncio.sleep(0.2)
            await loop.wait_logins(25)
    assert loop.failures == [], _around(loop.summary(), started)
    assert await lab.sh("proxy1", tls_conf) == before
    running = await lab.sh("proxy1", "ps -eo args | grep '[n]utcracker' || true")
    assert len(running.splitlines()) == 1 and "-s 22223" not in running, running
