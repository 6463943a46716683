"""What a component declares: the one object through which the rest of clustermgr knows it.

A component is one package under ``components/`` (``ldap``, ``cache``, ``lb``...)
whose ``component.py`` builds a :class:`Component`; the registry lists them in
order.  The CLI, the REST API, the GUI, the job runners and the watcher read the
registry and nothing else: no other module names a component.

The contract sits below the front ends and the registry (they read it) and above
the job and monitor machinery (it is made of their types).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from fastapi import APIRouter

from clustermgr.core.manager import Manager
from clustermgr.jobs.deploy import Stage
from clustermgr.jobs.kinds import JobKind, Report
from clustermgr.monitor.watching import WatchedComponent

#: The clusters a component is set up on: one store query, no SSH, however many clusters.
SetUpIn = Callable[[Manager], Awaitable[Collection[str]]]
#: A component's status now, read from the servers (nothing changed or recorded).
Status = Callable[[Manager, str], Awaitable[Report]]
#: The component's part of the watcher, made once per watcher.
WatchFactory = Callable[[Manager], WatchedComponent]


@dataclass(frozen=True)
class Component:
    #: Short and stable: job kinds, alerts, samples, URLs and the CLI group use it.
    name: str
    #: What a person calls it ("LDAP replication").
    title: str
    #: One line on what its page shows, for the cluster page's links.
    summary: str = ""
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
    #: ``clustermgr NAME ...``.
    cli: typer.Typer | None = None
    #: Routes under ``/api/v1``.
    api: APIRouter | None = None
    #: GUI routes; its page is ``/clusters/{cluster}/NAME`` when ``has_page``.
    pages: APIRouter | None = None
    has_page: bool = False
    #: A folder of Jinja templates (``NAME/...``) its pages render.
    templates: Path | None = None

    async def set_up(self, manager: Manager, cluster: str) -> bool:
        """Whether the component is set up on ``cluster``."""
        return self.set_up_in is None or cluster in await self.set_up_in(manager)

    def job_kinds(self) -> tuple[JobKind[Any], ...]:
        """Every job kind of the component; its plan names the apply that applies it, and
        each of its changes that names no component it touches touches this one."""
        out: list[JobKind[Any]] = []
        if self.plan is not None:
            applied_by = self.apply.name if self.apply is not None else None
            out.append(dataclasses.replace(self.plan, applied_by=applied_by))
        if self.apply is not None:
            out.append(self.apply)
        return tuple(self._stamped(kind) for kind in (*out, *self.kinds))

    def _stamped(self, kind: JobKind[Any]) -> JobKind[Any]:
        if not kind.mutating or kind.touches is None or kind.touches:
            return kind
        return dataclasses.replace(kind, touches=frozenset({self.name}))


def deploy_stages(components: Sequence[Component]) -> tuple[Stage, ...]:
    """The deploy's stages: every component with a plan and an apply, in ``components``'
    order."""
    return tuple(
        Stage(c.name, c.title, c.plan, c.apply)
        for c in components
        if c.plan is not None and c.apply is not None
    )
