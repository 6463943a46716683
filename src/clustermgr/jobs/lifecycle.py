"""Adding a node to a running cluster and taking one out, each in one job.

``node-add`` (params: ``node``, a server already in the inventory as ``joining``):
a preflight of the node, then each set-up component's *join* in registry order (by
default its apply on the cluster, which sets the joining node up with the others),
then the node becomes a ``member`` and each component's *admit* runs (the balancer
waits for the node's health check and writes it into the upstreams).  The first
failure stops the job and leaves the node ``joining`` (the balancer sends it nothing);
running the job again resumes, as every apply is idempotent.

``node-remove`` (params: ``node``, ``uninstall``): refuses a node not in the cluster
and the last identity node before anything changes; the node becomes ``leaving`` (no
component includes it any more), each set-up component's *leave* runs in reverse
registry order (the balancer first), then the server leaves the inventory.  A node
that does not answer is taken out without being touched, and the job says so.
Running it again on a ``leaving`` node continues.

Each job writes one audit entry (``node.add``, ``node.remove``) under its actor.  The
machinery never names a component: the parts come from the registry
(``contract.lifecycle``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole
from clustermgr.core.access import get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.inventory.schemas import ClusterView, NodeState, ServerView
from clustermgr.jobs.kinds import JobContext, JobKind, Report
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.topology import Role
from clustermgr.validation import Hostname

ADMIN = UserRole.ADMIN
ADD_KIND = "node-add"
REMOVE_KIND = "node-remove"

#: The job page's part showing a report (the web app's templates).
REPORT_TEMPLATE = "jobs/lifecycle.html"
#: What the job tells of a node that does not answer.
UNREACHABLE = "not reachable: nothing on it is touched"


class NodeAddParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: Hostname = Field(description="A server of the cluster's inventory, joining.")


class NodeRemoveParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: Hostname = Field(description="A server of the cluster.")
    uninstall: bool = Field(
        default=False,
        description="Also remove Gluu Server and its data from the node, when it answers.",
    )


@dataclass(frozen=True)
class Node:
    """The node a lifecycle job adds or takes out, as each component's part sees it."""

    hostname: str
    role: Role
    #: It answered over SSH when the job began (a dead node is never contacted).
    reachable: bool = True
    #: Taking it out also clears what was installed on it (when it answers).
    uninstall: bool = False


#: A component's part in adding or taking out ``node``: a report whose ``ok`` says it
#: went well.
NodeStep = Callable[[JobContext[Any], Node], Awaitable[Report]]
#: What taking out ``node`` of the cluster loses, in words (the manager, the cluster).
Effects = Callable[[Manager, str, Node], Awaitable[list[str]]]


#: A node's checks before it is added (the job's context, the server): what failed.
Preflight = Callable[[JobContext[Any], ServerView], Awaitable[str]]


@dataclass(frozen=True)
class NodePart:
    """One component's parts in a node's life (any may be None)."""

    name: str
    title: str
    set_up: Callable[[Manager, str], Awaitable[bool]]
    join: NodeStep | None = None
    admit: NodeStep | None = None
    leave: NodeStep | None = None
    effects: Effects | None = None


class PartStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    #: Not set up on the cluster, or the job stopped before it.
    NOT_RUN = "not run"


@dataclass(frozen=True)
class PartReport:
    name: str
    #: ``join``, ``admit`` or ``leave``.
    phase: str
    title: str
    status: PartStatus
    report: Report | None = None
    note: str = ""
    seconds: float = field(default=0.0, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phase": self.phase,
            "title": self.title,
            "status": self.status.value,
            "note": self.note,
            "seconds": round(self.seconds, 3),
            "report": self.report.as_dict() if self.report is not None else None,
        }


@dataclass(frozen=True)
class LifecycleReport:
    """What a ``node-add`` or ``node-remove`` did, part by part."""

    kind: str
    node: str
    parts: tuple[PartReport, ...]
    #: The node's state when the job ended (None: it left the inventory).
    state: NodeState | None
    reachable: bool = True
    #: What went wrong before any part ran (a failed preflight), in words.
    problem: str = ""
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problem and all(p.status is not PartStatus.FAILED for p in self.parts)

    def _steps(self) -> list[tuple[PartReport, ApplyReport]]:
        return [(p, p.report) for p in self.parts if isinstance(p.report, ApplyReport)]

    def hosts(self) -> dict[str, list[dict[str, Any]]]:
        """Every part's steps per host, in the order they ran, each titled with its part
        (as a plan's ``hosts``: the job pages show them)."""
        merged: dict[str, list[dict[str, Any]]] = {}
        for part, steps in self._steps():
            for host, results in steps.results.items():
                for r in results:
                    row = r.as_dict()
                    row["title"] = f"{part.phase} {part.title}: {r.title}"
                    merged.setdefault(host, []).append(row)
        return merged

    def as_dict(self) -> dict[str, Any]:
        counts = {o.value: sum(s.count(o) for _, s in self._steps()) for o in Outcome}
        return {
            "kind": self.kind,
            "node": self.node,
            "ok": self.ok,
            "dry_run": False,
            "counts": counts,
            "hosts": self.hosts(),
            "state": self.state.value if self.state is not None else None,
            "reachable": self.reachable,
            "problem": self.problem,
            "notes": list(self.notes),
            "parts": [p.as_dict() for p in self.parts],
        }


def _say(ctx: JobContext[Any], message: str, host: str | None = None) -> None:
    ctx.emit(Event(EventKind.PLAN_STARTED, message, host=host))


def _server(cluster: ClusterView, hostname: str) -> ServerView:
    found = next((s for s in cluster.servers if s.hostname == hostname), None)
    if found is None:
        raise InvalidInput(
            f"no server {hostname!r} in cluster {cluster.name!r}",
            hint="add it to the inventory first (as joining): `clustermgr node add`",
        )
    _identity(found)
    return found


def _identity(server: ServerView) -> None:
    if server.role is not Role.IDENTITY:
        raise InvalidInput(
            f"{server.hostname} is a {server.role.value} server: only identity nodes join "
            "and leave a running cluster",
            hint="change the cluster's proxy with the inventory and a deploy",
        )


async def _run_part(
    ctx: JobContext[Any], part: NodePart, phase: str, step: NodeStep, node: Node
) -> PartReport:
    started = time.monotonic()
    try:
        report = await step(ctx, node)
    except ClustermgrError as exc:
        return PartReport(
            part.name,
            phase,
            part.title,
            PartStatus.FAILED,
            None,
            exc.message,
            time.monotonic() - started,
        )
    status = PartStatus.DONE if report.ok else PartStatus.FAILED
    note = "" if report.ok else _problem(report)
    return PartReport(
        part.name, phase, part.title, status, report, note, time.monotonic() - started
    )


def _problem(report: Report) -> str:
    if isinstance(report, ApplyReport):
        bad = [r for r in report.all() if r.outcome in (Outcome.FAILED, Outcome.SKIPPED)]
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            return f"{bad[0].host}: {bad[0].title}: {bad[0].reason}{more}"
    return "it failed"


@dataclass(frozen=True)
class Removal:
    """What taking a node out would do, for a person to confirm."""

    server: ServerView
    #: Its SSH port accepted a connection (no login): else it is taken out untouched.
    reachable: bool
    #: What taking it out loses, in words.
    lost: tuple[str, ...]
    #: What also uninstalling Gluu Server from it loses besides (or why it cannot).
    uninstalling: tuple[str, ...]


@dataclass(frozen=True)
class Lifecycle:
    """Every component's parts in a node's life, in registry order."""

    parts: tuple[NodePart, ...]
    #: Checks the node before any part runs: what failed, in words ("" when it passed).
    preflight: Preflight = field(default=lambda ctx, server: _preflight(ctx, server))

    def order(self, phase: str) -> list[tuple[NodePart, NodeStep]]:
        """The parts that have a ``phase`` step, in the order the jobs run them: joins
        and admits in registry order, leaves in reverse."""
        chosen = [(p, getattr(p, phase)) for p in self.parts if getattr(p, phase) is not None]
        return list(reversed(chosen)) if phase == "leave" else chosen

    async def _phase(
        self, ctx: JobContext[Any], phase: str, node: Node, out: list[PartReport]
    ) -> bool:
        """Run each set-up part's ``phase`` step, stopping at the first that fails; the
        parts not run are reported too.  Whether every one went well."""
        steps = self.order(phase)
        for number, (part, step) in enumerate(steps):
            if ctx.cancelled():
                out.extend(_not_run(steps[number:], phase, "the job was cancelled before it"))
                return False
            if not await part.set_up(ctx.manager, ctx.cluster):
                out.append(
                    PartReport(part.name, phase, part.title, PartStatus.NOT_RUN, note="not set up")
                )
                continue
            _say(ctx, f"{phase} {node.hostname}: {part.title}", node.hostname)
            done = await _run_part(ctx, part, phase, step, node)
            out.append(done)
            if done.status is PartStatus.FAILED:
                note = f"{part.title} failed before it"
                out.extend(_not_run(steps[number + 1 :], phase, note))
                return False
        return True

    async def add(self, ctx: JobContext[NodeAddParams]) -> LifecycleReport:
        hostname = ctx.params.node
        async with audit.audited(
            ctx.manager,
            actor=ctx.actor,
            action="node.add",
            target=f"{ctx.cluster}/{hostname}",
            detail={"node": hostname},
        ) as outcome:
            report = await self._add(ctx, hostname)
            outcome.detail["state"] = report.state.value if report.state else None
            if not report.ok:
                outcome.result = "failed"
        return report

    async def _add(self, ctx: JobContext[NodeAddParams], hostname: str) -> LifecycleReport:
        cluster = await get_cluster(ctx.manager, ctx.cluster)
        server = _server(cluster, hostname)
        if server.state is NodeState.LEAVING:
            raise InvalidInput(
                f"{hostname} is being taken out of cluster {ctx.cluster!r}",
                hint="finish its removal (run node-remove again), then add it anew",
            )
        node = Node(hostname, server.role)
        problem = await self.preflight(ctx, server)
        if problem:
            return LifecycleReport(ADD_KIND, hostname, (), server.state, problem=problem)
        out: list[PartReport] = []
        if not await self._phase(ctx, "join", node, out):
            return LifecycleReport(ADD_KIND, hostname, tuple(out), server.state)
        async with ctx.manager.store() as store:
            await store.set_state(ctx.cluster, hostname, NodeState.MEMBER)
        _say(ctx, f"{hostname} is a member of cluster {ctx.cluster}", hostname)
        await self._phase(ctx, "admit", node, out)
        return LifecycleReport(ADD_KIND, hostname, tuple(out), NodeState.MEMBER)

    async def remove(self, ctx: JobContext[NodeRemoveParams]) -> LifecycleReport:
        hostname = ctx.params.node
        async with audit.audited(
            ctx.manager,
            actor=ctx.actor,
            action="node.remove",
            target=f"{ctx.cluster}/{hostname}",
            detail={"node": hostname, "uninstall": ctx.params.uninstall},
        ) as outcome:
            report = await self._remove(ctx, hostname)
            outcome.detail["reachable"] = report.reachable
            if not report.ok:
                outcome.result = "failed"
        return report

    async def _remove(self, ctx: JobContext[NodeRemoveParams], hostname: str) -> LifecycleReport:
        cluster = await get_cluster(ctx.manager, ctx.cluster)
        server = removable(cluster, hostname)
        reachable = await answers(ctx.manager, ctx.cluster, hostname)
        notes: list[str] = []
        if not reachable:
            notes.append(f"{hostname} is {UNREACHABLE}")
            _say(ctx, f"{hostname} is {UNREACHABLE}", hostname)
        node = Node(hostname, server.role, reachable, ctx.params.uninstall)
        async with ctx.manager.store() as store:
            await store.set_state(ctx.cluster, hostname, NodeState.LEAVING)
        out: list[PartReport] = []
        if not await self._phase(ctx, "leave", node, out):
            return LifecycleReport(
                REMOVE_KIND, hostname, tuple(out), NodeState.LEAVING, reachable, notes=tuple(notes)
            )
        async with ctx.manager.store() as store:
            await store.remove_server(ctx.cluster, hostname)
        _say(ctx, f"{hostname} left cluster {ctx.cluster}", hostname)
        gone = tuple(out)
        return LifecycleReport(REMOVE_KIND, hostname, gone, None, reachable, notes=tuple(notes))

    async def removal_effects(
        self, manager: Manager, cluster: str, hostname: str, *, uninstall: bool = False
    ) -> list[str]:
        """What taking ``hostname`` out of ``cluster`` loses, in words, for a person to
        confirm; InvalidInput when it may not be taken out (see :func:`removable`).  It
        reads the inventory and the components' stores, and whether the node's SSH port
        accepts a connection (no login)."""
        found = await self.removal(manager, cluster, hostname)
        return list(found.lost + (found.uninstalling if uninstall else ()))

    async def removal(self, manager: Manager, cluster: str, hostname: str) -> Removal:
        """What taking ``hostname`` out of ``cluster`` would do, with and without
        uninstalling, from one look at the node (see :meth:`removal_effects`)."""
        view = await get_cluster(manager, cluster)
        server = removable(view, hostname)
        reachable = await listens(server, manager.settings.connect_timeout)
        kept = await self._effects(manager, cluster, Node(hostname, server.role, reachable))
        cleared = Node(hostname, server.role, reachable, uninstall=True)
        more = [line for line in await self._effects(manager, cluster, cleared) if line not in kept]
        lost = kept if reachable else [f"{hostname} is {UNREACHABLE}", *kept]
        return Removal(server, reachable, tuple(lost), tuple(more))

    async def _effects(self, manager: Manager, cluster: str, node: Node) -> list[str]:
        out: list[str] = []
        for part in self.parts:
            if part.effects is not None and await part.set_up(manager, cluster):
                out.extend(await part.effects(manager, cluster, node))
        return out

    def kinds(self) -> tuple[JobKind[NodeAddParams], JobKind[NodeRemoveParams]]:
        """The ``node-add`` and ``node-remove`` kinds.  Both touch every component (the
        watcher leaves the cluster alone while they run) and change who is in the
        cluster, as adding and removing servers does: admins start them."""
        add = JobKind(
            ADD_KIND,
            "add a node",
            True,
            self.add,
            NodeAddParams,
            role=ADMIN,
            touches=None,
            report_template=REPORT_TEMPLATE,
        )
        remove = JobKind(
            REMOVE_KIND,
            "remove a node",
            True,
            self.remove,
            NodeRemoveParams,
            role=ADMIN,
            touches=None,
            report_template=REPORT_TEMPLATE,
        )
        return add, remove


def _not_run(steps: Sequence[tuple[NodePart, NodeStep]], phase: str, note: str) -> list[PartReport]:
    return [PartReport(p.name, phase, p.title, PartStatus.NOT_RUN, note=note) for p, _ in steps]


def removable(cluster: ClusterView, hostname: str) -> ServerView:
    """The server ``hostname``, when it may be taken out of ``cluster``: InvalidInput
    when it is not in it, not an identity node, or the last identity node (nothing
    would serve)."""
    server = next((s for s in cluster.servers if s.hostname == hostname), None)
    if server is None:
        raise InvalidInput(
            f"no server {hostname!r} in cluster {cluster.name!r}",
            hint="see `clustermgr server list`",
        )
    _identity(server)
    others = [s for s in cluster.nodes(Role.IDENTITY) if s.hostname != hostname]
    if not others:
        raise InvalidInput(
            f"{hostname} is the last identity node of cluster {cluster.name!r}",
            hint="add another node first (clustermgr node add), then take this one out",
        )
    return server


async def answers(manager: Manager, cluster: str, hostname: str) -> bool:
    """Whether ``hostname`` answers over SSH now (one login, the connect timeout)."""
    try:
        async with await open_access(
            manager, cluster, [hostname], settings=manager.settings
        ) as access:
            await access.platform(hostname)
    except ClustermgrError:
        return False
    return True


async def listens(server: ServerView, timeout: float) -> bool:
    """Whether the server's SSH port accepts a connection within ``timeout`` (no login)."""
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(server.address, server.ssh_port), timeout
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _preflight(ctx: JobContext[Any], server: ServerView) -> str:
    """The node's preflight checks; what failed, in words ("" when it passed)."""
    from clustermgr.services.preflight import Status, check_servers

    _say(ctx, f"preflight of {server.hostname}", server.hostname)
    try:
        async with await open_access(ctx.manager, ctx.cluster, [server.hostname]) as access:
            report = await check_servers(access, [server], ctx.emit, network=False)
    except ClustermgrError as exc:
        return f"preflight of {server.hostname}: {exc.message}"
    failed = [c for c in report.checks if c.status is Status.FAIL]
    if failed:
        return "preflight: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
    return ""
