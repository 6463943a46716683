"""What a component declares: the one object through which the rest of clustermgr knows it.

A component is one package under ``components/`` (``ldap``, ``cache``, ``lb``...)
whose ``component.py`` builds a :class:`Component`; the registry lists them in
order.  The CLI, the REST API, the GUI, the job runners and the watcher read the
registry and nothing else: no other module names a component.

A declaration is cheap to import: its names and help texts are plain values, and
everything else (job kinds, status, the watcher's part, the CLI group, the routers)
is a loader called on first use: one the declaration's module defines with the
imports inside, or :func:`loads` for a name of one of its modules.  ``clustermgr
--help`` lists every group without importing a component's modules, and a CLI
command never imports the web app.

The contract sits below the front ends and the registry (they read it) and above
the job and monitor machinery (it is made of their types).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from clustermgr.core.manager import Manager
    from clustermgr.jobs.deploy import Stage
    from clustermgr.jobs.kinds import JobContext, JobKind, Report
    from clustermgr.jobs.lifecycle import Effects, Lifecycle, Node, NodeStep
    from clustermgr.monitor.exposition import GaugesOf
    from clustermgr.monitor.watching import WatchedComponent

#: The clusters a component is set up on: one store query, no SSH, however many clusters.
SetUpIn: TypeAlias = "Callable[[Manager], Awaitable[Collection[str]]]"
#: A component's status now, read from the servers (nothing changed or recorded).
Status: TypeAlias = "Callable[[Manager, str], Awaitable[Report]]"
#: The component's part of the watcher, made once per watcher.
WatchFactory: TypeAlias = "Callable[[Manager], WatchedComponent]"


@dataclass(frozen=True)
class Parts:
    """What a component does, loaded when first needed (its modules import SSH, the
    database and the job machinery)."""

    #: The dry run of its apply: what would change, as a reviewable plan.
    plan: JobKind[Any] | None = None
    #: Makes the servers match; takes the actor from its job and audits in the service.
    apply: JobKind[Any] | None = None
    #: Its other job kinds (status, repairs, maintenance).
    kinds: tuple[JobKind[Any], ...] = ()
    status: Status | None = None
    #: Where its apply set it up (None: nothing to set up, it is there on every cluster).
    set_up_in: SetUpIn | None = None
    watch: WatchFactory | None = None
    #: Its health gauges for ``/metrics``, from its watcher's latest snapshot.
    gauges: GaugesOf | None = None
    #: Its part in adding a node (``node-add``), the node ``joining``; None: its apply on
    #: the cluster (where it is set up), which sets the joining node up with the others.
    join: NodeStep | None = None
    #: Its part once the added node became a member (the balancer sends it requests).
    admit: NodeStep | None = None
    #: Its part in taking a node out (``node-remove``), the node ``leaving``: let go of
    #: it on the other servers, and (when asked and it answers) clear it.  None: nothing.
    leave: NodeStep | None = None
    #: What taking a node out loses, in words, for the person to confirm.
    effects: Effects | None = None


def _no_parts() -> Parts:
    return Parts()


def loads(module: str, name: str) -> Callable[[], Any]:
    """A loader of ``name`` from ``module``, imported on the first call: a declaration's
    ``cli=loads(f"{__package__}.cli", "app")``."""

    def load() -> Any:
        return getattr(importlib.import_module(module), name)

    return load


@dataclass(frozen=True)
class Component:
    #: Short and stable: job kinds, alerts, samples, URLs and the CLI group use it.
    name: str
    #: What a person calls it ("LDAP replication").
    title: str
    #: One line on what its page shows, for the cluster page's links.
    summary: str = ""
    #: Loads its job kinds, status, set-up query and watcher part (:class:`Parts`).
    parts: Callable[[], Parts] = _no_parts
    #: Loads its ``clustermgr NAME ...`` group.
    cli: Callable[[], typer.Typer] | None = None
    #: The group's line in ``clustermgr --help`` and its help text.
    cli_help: str = ""
    #: Loads its routes under ``/api/v1``.
    api: Callable[[], APIRouter] | None = None
    #: Loads its GUI routes; its page is ``/clusters/{cluster}/NAME`` when ``has_page``.
    pages: Callable[[], APIRouter] | None = None
    has_page: bool = False
    #: What its page of one server shows ("" when it has none): the server's own page
    #: links it, ``/clusters/{cluster}/NAME/{hostname}``.
    server_page: str = ""
    #: The text of a link to its page around a time on some hosts ("logs around this
    #: time"), "" when it has none: the pages of an alert and of a job link
    #: ``/clusters/{cluster}/NAME?host=HOST&from=START&to=END`` for each of their hosts.
    around: str = ""
    #: A folder of Jinja templates (``NAME/...``) its pages render.
    templates: Path | None = None
    #: The monitoring's series its page charts (names of the metrics catalog).
    metrics_series: tuple[str, ...] = ()
    #: The components before it its deploy stage needs applied first (None: every one
    #: before it); the deploy runs stages whose needs are met side by side.
    needs: tuple[str, ...] | None = None
    #: The rules of its alerts (an alert key up to its first ``:``) that say what its
    #: stage set up is broken: their open critical alerts mark its deploy stage failing.
    #: None: every alert of it; ``()``: its alerts are about the servers, not its set-up.
    setup_alerts: tuple[str, ...] | None = None

    @property
    def plan(self) -> JobKind[Any] | None:
        return self.parts().plan

    @property
    def apply(self) -> JobKind[Any] | None:
        return self.parts().apply

    @property
    def kinds(self) -> tuple[JobKind[Any], ...]:
        return self.parts().kinds

    @property
    def status(self) -> Status | None:
        return self.parts().status

    @property
    def set_up_in(self) -> SetUpIn | None:
        return self.parts().set_up_in

    @property
    def watch(self) -> WatchFactory | None:
        return self.parts().watch

    @property
    def gauges(self) -> GaugesOf | None:
        return self.parts().gauges

    @property
    def join(self) -> NodeStep | None:
        parts = self.parts()
        if parts.join is not None or parts.apply is None:
            return parts.join
        return applying(parts.apply)

    @property
    def admit(self) -> NodeStep | None:
        return self.parts().admit

    @property
    def leave(self) -> NodeStep | None:
        return self.parts().leave

    @property
    def effects(self) -> Effects | None:
        return self.parts().effects

    async def set_up(self, manager: Manager, cluster: str) -> bool:
        """Whether the component is set up on ``cluster``."""
        set_up_in = self.set_up_in
        return set_up_in is None or cluster in await set_up_in(manager)

    def job_kinds(self) -> tuple[JobKind[Any], ...]:
        """Every job kind of the component; its plan names the apply that applies it, and
        each of its changes that names no component it touches touches this one."""
        parts = self.parts()
        out: list[JobKind[Any]] = []
        if parts.plan is not None:
            applied_by = parts.apply.name if parts.apply is not None else None
            out.append(dataclasses.replace(parts.plan, applied_by=applied_by))
        if parts.apply is not None:
            out.append(parts.apply)
        return tuple(self._stamped(kind) for kind in (*out, *parts.kinds))

    def _stamped(self, kind: JobKind[Any]) -> JobKind[Any]:
        if not kind.mutating or kind.touches is None or kind.touches:
            return kind
        return dataclasses.replace(kind, touches=frozenset({self.name}))


def applying(apply: JobKind[Any]) -> NodeStep:
    """A node's join or leave as the component's apply on its cluster, with the apply's
    default params: the apply sets up a joining node with the others, and lets go of a
    leaving one (it is no longer one of the servers it sets up)."""

    async def join(ctx: JobContext[Any], node: Node) -> Report:
        from clustermgr.jobs.kinds import JobContext

        own = JobContext(
            ctx.manager, ctx.cluster, apply.parse({}), ctx.emit, ctx.cancelled, actor=ctx.actor
        )
        return await apply.run(own)

    return join


def lifecycle(components: Sequence[Component]) -> Lifecycle:
    """Adding and taking out a node: every component's part, in ``components``' order."""
    from clustermgr.jobs.lifecycle import Lifecycle, NodePart  # loaded with the parts

    return Lifecycle(
        tuple(
            NodePart(c.name, c.title, c.set_up, c.join, c.admit, c.leave, c.effects)
            for c in components
        )
    )


def deploy_stages(components: Sequence[Component]) -> tuple[Stage, ...]:
    """The deploy's stages: every component with a plan and an apply, in ``components``'
    order.  A component that needs one not before it is a ValueError."""
    from clustermgr.jobs.deploy import Stage  # loaded with the components' parts

    stages = []
    before: list[str] = []
    for c in components:
        unknown = set(c.needs or ()) - set(before)
        if unknown:
            raise ValueError(f"{c.name} needs {', '.join(sorted(unknown))}: not before it")
        before.append(c.name)
        parts = c.parts()
        if parts.plan is not None and parts.apply is not None:
            stages.append(Stage(c.name, c.title, parts.plan, parts.apply, c.needs, c.setup_alerts))
    return tuple(stages)
