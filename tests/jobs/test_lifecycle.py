"""Adding and taking out a node over stand-in component parts: the order the parts run
in, the node's state at each point, refusals before anything changes, a stopped job
taken up again, a dead node left untouched, one audit entry per job; and the real
components' declarations in that order.

The cluster is a real one in the store; the stand-in parts reach no server.  Its
servers' SSH ports refuse connections (127.0.0.1, a closed port): they do not answer.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pydantic import BaseModel

from clustermgr.audit import service as audit
from clustermgr.components import registry
from clustermgr.components.contract import lifecycle
from clustermgr.core.access import get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import NodeState, ServerSpec, ServerView
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import (
    ADD_KIND,
    REMOVE_KIND,
    UNREACHABLE,
    Lifecycle,
    LifecycleReport,
    Node,
    NodeAddParams,
    NodePart,
    NodeRemoveParams,
    PartStatus,
)
from clustermgr.plan.events import Event
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.services import clusters
from clustermgr.topology import Role

CLUSTER = "life"
IDP1, IDP2, IDP3 = "idp1.life.test", "idp2.life.test", "idp3.life.test"
PROXY = "proxy.life.test"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def _add(manager: Manager, host: str, port: int, role: Role, state: NodeState) -> None:
    async with manager.store() as store:
        spec = ServerSpec(CLUSTER, host, "127.0.0.1", role, ssh_port=port, state=state)
        await store.add_server(spec, None, [])


async def _state(manager: Manager, host: str) -> NodeState | None:
    view = await get_cluster(manager, CLUSTER)
    return next((s.state for s in view.servers if s.hostname == host), None)


@pytest.fixture
async def cluster(manager: Manager) -> str:
    """idp1 and idp2 members, idp3 joining, and a proxy."""
    await clusters.create_cluster(manager, CLUSTER)
    for host, role, state in (
        (IDP1, Role.IDENTITY, NodeState.MEMBER),
        (IDP2, Role.IDENTITY, NodeState.MEMBER),
        (IDP3, Role.IDENTITY, NodeState.JOINING),
        (PROXY, Role.PROXY, NodeState.MEMBER),
    ):
        await _add(manager, host, _closed_port(), role, state)
    return CLUSTER


class Log:
    """What the stand-in parts did, in order: (component, phase, node, its state then)."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.calls: list[tuple[str, str, str, NodeState | None]] = []
        self.nodes: list[Node] = []

    def part(
        self,
        name: str,
        *,
        join: bool = True,
        admit: bool = False,
        leave: bool = False,
        fails: str = "",
        set_up: bool = True,
        lost: str = "",
    ) -> NodePart:
        async def step(phase: str, ctx: JobContext[Any], node: Node) -> ApplyReport:
            self.nodes.append(node)
            self.calls.append((name, phase, node.hostname, await _state(self.manager, IDP3)))
            outcome = Outcome.FAILED if phase == fails else Outcome.CHANGED
            row = StepResult(f"{node.hostname}:{name}", node.hostname, name, outcome, "r")
            return ApplyReport(name, False, {node.hostname: [row]})

        async def joined(ctx: JobContext[Any], node: Node) -> ApplyReport:
            return await step("join", ctx, node)

        async def admitted(ctx: JobContext[Any], node: Node) -> ApplyReport:
            return await step("admit", ctx, node)

        async def left(ctx: JobContext[Any], node: Node) -> ApplyReport:
            return await step("leave", ctx, node)

        async def is_set_up(manager: Manager, cluster: str) -> bool:
            return set_up

        async def effects(manager: Manager, cluster: str, node: Node) -> list[str]:
            return [f"{lost} of {node.hostname}"] if lost else []

        return NodePart(
            name,
            name.title(),
            is_set_up,
            joined if join else None,
            admitted if admit else None,
            left if leave else None,
            effects,
        )


async def _passes(ctx: JobContext[Any], server: ServerView) -> str:
    return ""


def _ctx(manager: Manager, params: BaseModel) -> JobContext[Any]:
    events: list[Event] = []
    return JobContext(manager, CLUSTER, params, events.append, lambda: False, actor="tester")


def _standard(log: Log, **fails: str) -> Lifecycle:
    """install, ldap, cache, lb (admits and leaves first), metrics, as the registry orders."""
    return Lifecycle(
        (
            log.part("install", leave=True, fails=fails.get("install", "")),
            log.part("ldap", leave=True, fails=fails.get("ldap", ""), lost="agreements"),
            log.part("cache", leave=True, fails=fails.get("cache", ""), lost="cache keys"),
            log.part("lb", admit=True, leave=True, fails=fails.get("lb", "")),
            log.part("metrics", set_up=False),
        ),
        preflight=_passes,
    )


async def _entries(manager: Manager, action: str) -> list[audit.AuditView]:
    return [e for e in await audit.entries(manager) if e.action == action]


async def test_an_added_node_joins_every_set_up_component_then_is_admitted_as_a_member(
    manager: Manager, cluster: str
) -> None:
    log = Log(manager)
    report = await _standard(log).add(_ctx(manager, NodeAddParams(node=IDP3)))
    assert report.ok and report.state is NodeState.MEMBER
    shown = report.as_dict()
    assert shown["counts"]["changed"] == 5
    assert [r["title"] for r in shown["hosts"][IDP3]][-1] == "admit Lb: lb"
    joining, member = NodeState.JOINING, NodeState.MEMBER
    assert log.calls == [
        ("install", "join", IDP3, joining),
        ("ldap", "join", IDP3, joining),
        ("cache", "join", IDP3, joining),
        ("lb", "join", IDP3, joining),
        ("lb", "admit", IDP3, member),
    ], "joins in registry order while joining, the balancer admits it once a member"
    assert [(p.name, p.phase, p.status) for p in report.parts][-2:] == [
        ("metrics", "join", PartStatus.NOT_RUN),
        ("lb", "admit", PartStatus.DONE),
    ], "a component not set up on the cluster has no part"
    assert await _state(manager, IDP3) is NodeState.MEMBER
    [entry] = await _entries(manager, "node.add")
    assert (entry.actor, entry.target, entry.result) == ("tester", f"{CLUSTER}/{IDP3}", "ok")


async def test_a_failed_join_stops_the_job_the_node_stays_joining_and_a_rerun_resumes(
    manager: Manager, cluster: str
) -> None:
    log = Log(manager)
    stopped = await _standard(log, cache="join").add(_ctx(manager, NodeAddParams(node=IDP3)))
    assert not stopped.ok and stopped.state is NodeState.JOINING
    assert [c[:2] for c in log.calls] == [("install", "join"), ("ldap", "join"), ("cache", "join")]
    assert {p.name: p.status for p in stopped.parts}["lb"] is PartStatus.NOT_RUN
    assert "idp3.life.test: cache: r" in {p.name: p.note for p in stopped.parts}["cache"]
    assert await _state(manager, IDP3) is NodeState.JOINING, "out of the balancer"
    [entry] = await _entries(manager, "node.add")
    assert entry.result == "failed"

    again = Log(manager)
    resumed = await _standard(again).add(_ctx(manager, NodeAddParams(node=IDP3)))
    assert resumed.ok and await _state(manager, IDP3) is NodeState.MEMBER
    assert [c[:2] for c in again.calls][-1] == ("lb", "admit")


async def test_a_failed_preflight_runs_no_part(manager: Manager, cluster: str) -> None:
    log = Log(manager)

    async def fails(ctx: JobContext[Any], server: ServerView) -> str:
        return f"preflight: disk: too small on {server.hostname}"

    nodes = Lifecycle(_standard(log).parts, preflight=fails)
    report = await nodes.add(_ctx(manager, NodeAddParams(node=IDP3)))
    assert not report.ok and report.problem.endswith(IDP3) and log.calls == []
    assert await _state(manager, IDP3) is NodeState.JOINING


async def test_the_real_preflight_fails_on_a_node_that_does_not_answer(
    manager: Manager, cluster: str
) -> None:
    report = await Lifecycle(()).add(_ctx(manager, NodeAddParams(node=IDP3)))
    assert not report.ok and report.problem.startswith("preflight: ssh login: ")
    assert IDP3 in report.problem and report.parts == ()


async def test_a_removed_node_leaves_in_reverse_order_then_the_inventory(
    manager: Manager, cluster: str
) -> None:
    log = Log(manager)
    params = NodeRemoveParams(node=IDP2, uninstall=True)
    report = await _standard(log).remove(_ctx(manager, params))
    assert report.ok and report.state is None
    assert [c[:3] for c in log.calls] == [
        ("lb", "leave", IDP2),
        ("cache", "leave", IDP2),
        ("ldap", "leave", IDP2),
        ("install", "leave", IDP2),
    ], "the balancer lets go first, the install last"
    assert all(n.uninstall and not n.reachable for n in log.nodes)
    assert report.notes == (f"{IDP2} is {UNREACHABLE}",)
    view = await get_cluster(manager, CLUSTER)
    assert IDP2 not in [s.hostname for s in view.servers]
    [entry] = await _entries(manager, "node.remove")
    assert entry.detail["reachable"] is False and entry.detail["uninstall"] is True


async def test_components_see_a_leaving_node_as_gone_and_a_rerun_continues(
    manager: Manager, cluster: str
) -> None:
    log = Log(manager)
    seen: list[list[str]] = []

    async def sees(ctx: JobContext[Any], node: Node) -> ApplyReport:
        view = await get_cluster(ctx.manager, ctx.cluster)
        seen.append(view.hostnames(Role.IDENTITY))
        async with await open_access(ctx.manager, ctx.cluster) as access:
            seen.append(sorted(access.servers))
        return ApplyReport("sees", False, {})

    async def always(manager: Manager, cluster: str) -> bool:
        return True

    watcher = NodePart("watch", "Watch", always, leave=sees)
    broken = Lifecycle((*_standard(log, ldap="leave").parts, watcher), preflight=_passes)
    stopped = await broken.remove(_ctx(manager, NodeRemoveParams(node=IDP2)))
    assert not stopped.ok and stopped.state is NodeState.LEAVING
    assert seen == [[IDP1, IDP3], sorted([IDP1, IDP3, PROXY])], "leaving: no one includes it"
    view = await get_cluster(manager, CLUSTER)
    assert {s.hostname: s.state for s in view.servers}[IDP2] is NodeState.LEAVING

    again = Log(manager)
    done = await _standard(again).remove(_ctx(manager, NodeRemoveParams(node=IDP2)))
    assert done.ok and [c[0] for c in again.calls] == ["lb", "cache", "ldap", "install"]
    assert IDP2 not in (await get_cluster(manager, CLUSTER)).hostnames()


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("idp9.life.test", "no server 'idp9.life.test'"),
        (PROXY, "only identity nodes join and leave"),
    ],
)
async def test_a_node_not_in_the_cluster_or_no_identity_node_is_refused_before_anything(
    manager: Manager, cluster: str, node: str, message: str
) -> None:
    log = Log(manager)
    with pytest.raises(InvalidInput, match=message):
        await _standard(log).remove(_ctx(manager, NodeRemoveParams(node=node)))
    with pytest.raises(InvalidInput, match=message):
        await _standard(log).removal_effects(manager, CLUSTER, node)
    assert log.calls == []
    [entry] = await _entries(manager, "node.remove")
    assert (entry.result, entry.detail["error"]) == ("failed", "invalid_input")


async def test_the_last_identity_node_is_refused_before_anything_changes(
    manager: Manager, cluster: str
) -> None:
    log = Log(manager)
    assert (await _standard(log).remove(_ctx(manager, NodeRemoveParams(node=IDP2)))).ok
    assert (await _standard(log).remove(_ctx(manager, NodeRemoveParams(node=IDP3)))).ok
    log.calls.clear()
    with pytest.raises(InvalidInput, match="last identity node"):
        await _standard(log).remove(_ctx(manager, NodeRemoveParams(node=IDP1)))
    assert log.calls == [] and await _state(manager, IDP1) is NodeState.MEMBER


async def test_a_leaving_node_is_not_added_again(manager: Manager, cluster: str) -> None:
    log = Log(manager)
    await _standard(log, lb="leave").remove(_ctx(manager, NodeRemoveParams(node=IDP2)))
    with pytest.raises(InvalidInput, match="being taken out"):
        await _standard(log).add(_ctx(manager, NodeAddParams(node=IDP2)))


async def test_removal_effects_say_what_is_lost_and_that_a_dead_node_is_not_touched(
    manager: Manager, cluster: str
) -> None:
    lost = await _standard(Log(manager)).removal_effects(manager, CLUSTER, IDP1)
    assert lost == [
        f"{IDP1} is {UNREACHABLE}",
        f"agreements of {IDP1}",
        f"cache keys of {IDP1}",
    ]
    assert await _state(manager, IDP1) is NodeState.MEMBER, "reading changes nothing"


async def test_the_real_components_parts_run_in_registry_order() -> None:
    nodes = lifecycle(registry.COMPONENTS)
    assert [p.name for p, _ in nodes.order("join")] == [
        c.name for c in registry.COMPONENTS if c.apply is not None
    ], "every component with an apply joins by it, in registry order"
    assert [p.name for p, _ in nodes.order("admit")] == ["lb"]
    assert [p.name for p, _ in nodes.order("leave")] == ["lb", "cache", "ldap", "install"]
    catalog = registry.job_kinds()
    assert catalog.get(ADD_KIND).touches is None and catalog.get(REMOVE_KIND).mutating


async def test_the_real_components_effects_on_a_cluster_set_up_nowhere(
    manager: Manager, cluster: str
) -> None:
    lost = await lifecycle(registry.COMPONENTS).removal_effects(
        manager, CLUSTER, IDP1, uninstall=True
    )
    assert lost == [f"{IDP1} is {UNREACHABLE}"]


def test_a_report_shows_each_part() -> None:
    report = LifecycleReport(REMOVE_KIND, IDP2, (), None, reachable=False, notes=("n",))
    assert report.as_dict() == {
        "kind": REMOVE_KIND,
        "node": IDP2,
        "ok": True,
        "dry_run": False,
        "counts": {o.value: 0 for o in Outcome},
        "hosts": {},
        "state": None,
        "reachable": False,
        "problem": "",
        "notes": ["n"],
        "parts": [],
    }


async def test_a_removal_tells_what_uninstalling_loses_besides_and_whether_the_node_answers(
    manager: Manager, cluster: str
) -> None:
    async def uninstalled(manager: Manager, cluster: str, node: Node) -> list[str]:
        return [f"Gluu Server on {node.hostname}"] if node.uninstall else []

    async def is_set_up(manager: Manager, cluster: str) -> bool:
        return True

    log = Log(manager)
    parts = (*_standard(log).parts, NodePart("install", "Install", is_set_up, effects=uninstalled))
    nodes = Lifecycle(parts)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        await _add(
            manager, "idp4.life.test", listening.getsockname()[1], Role.IDENTITY, NodeState.MEMBER
        )
        found = await nodes.removal(manager, CLUSTER, "idp4.life.test")
    assert found.reachable and found.server.hostname == "idp4.life.test"
    assert found.lost == ("agreements of idp4.life.test", "cache keys of idp4.life.test")
    assert found.uninstalling == ("Gluu Server on idp4.life.test",)
    dead = await nodes.removal(manager, CLUSTER, IDP1)
    assert not dead.reachable and dead.lost[0] == f"{IDP1} is {UNREACHABLE}"
    with_uninstall = await nodes.removal_effects(manager, CLUSTER, IDP1, uninstall=True)
    assert with_uninstall == [*dead.lost, *dead.uninstalling]
    assert log.calls == [], "reading runs no part"
