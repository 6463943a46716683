"""Where a cluster stands on its way to deployed: each stage's state and the next action.

The stages are the servers, the preflight check, then every deploy stage (a change
with a plan and an apply, see :mod:`clustermgr.jobs.deploy`) in order.
:func:`stage_states` is pure: it reads the job history (newest first: each stage's
own plans and applies, and the deploy jobs' sections of it) and the open alerts.
:func:`load` gathers those with three queries.

A change's state comes from its newest record: nothing yet is *not started*; a failed
plan or apply is *failed*; an apply is *applied*; a plan with nothing to change is
*applied* too (the servers already match); a plan with changes is *planned*, or
*drifted* when an apply succeeded before it.  Open critical alerts of the component
that say what the stage set up is broken (:attr:`Stage.setup_alerts`) make it
*failing*, whatever its jobs say; an alert about a server the component watches does
not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from clustermgr.auth.roles import UserRole
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.deploy import APPLY_KIND, PLAN_KIND, Stage, StageStatus
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import JobView
from clustermgr.monitor import read
from clustermgr.monitor.alerts import Severity
from clustermgr.monitor.views import AlertView
from clustermgr.plan.model import Outcome

#: The kind of the servers' check; it passes before any change is planned.
PREFLIGHT_KIND = "preflight"
#: Jobs read per kind: enough to see past a deploy that stopped before a stage.
PER_KIND = 5


class StageState(StrEnum):
    NOT_STARTED = "not started"
    #: Servers added, preflight passed.
    DONE = "done"
    PLANNED = "planned"
    APPLIED = "applied"
    #: Applied once, and its newest plan has changes again.
    DRIFTED = "drifted"
    #: Its newest plan or apply (or preflight check) failed.
    FAILED = "failed"
    #: Open critical alerts of its component.
    FAILING = "failing"


@dataclass(frozen=True)
class Action:
    label: str
    #: A page to open (``method`` GET) or a route to post to (``method`` POST).
    href: str
    method: str = "POST"
    #: Who may do it (a page offers it to them only).
    role: UserRole = UserRole.OPERATOR

    def as_dict(self) -> dict[str, str]:
        return {
            "label": self.label,
            "href": self.href,
            "method": self.method,
            "role": self.role.value,
        }


@dataclass(frozen=True)
class StageRow:
    key: str
    title: str
    state: StageState
    #: The job its state comes from.
    job: int | None = None
    detail: str = ""
    action: Action | None = None
    #: The cluster's next action is this row's.
    next: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "state": self.state.value,
            "job": self.job,
            "detail": self.detail,
            "action": self.action.as_dict() if self.action else None,
            "next": self.next,
        }


@dataclass(frozen=True)
class StageBoard:
    """The rows in order, and the next action (one row's, or the whole deploy's)."""

    rows: tuple[StageRow, ...]
    next: Action | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stages": [r.as_dict() for r in self.rows],
            "next": self.next.as_dict() if self.next else None,
        }


@dataclass(frozen=True)
class _Mark:
    """One job's word on one stage."""

    job: int
    apply: bool
    ok: bool
    would_change: int
    #: Why it failed, in words ("" when it did not).
    note: str = ""


def _would_change(report: Mapping[str, Any] | None) -> int:
    counts = (report or {}).get("counts") or {}
    return int(counts.get(Outcome.WOULD_CHANGE.value, 0))


def _section(job: JobView, stage: str) -> Mapping[str, Any] | None:
    for section in (job.result or {}).get("stages") or []:
        if isinstance(section, Mapping) and section.get("name") == stage:
            return section
    return None


def _failure(job: JobView) -> str:
    """What a component's own failed job says went wrong: its error, or its first failed
    step."""
    if job.error:
        return job.error
    for host, rows in ((job.result or {}).get("hosts") or {}).items():
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and row.get("outcome") == Outcome.FAILED.value:
                return f"{host}: {row.get('title')}: {row.get('reason')}"
    return ""


def _mark(job: JobView, stage: Stage) -> _Mark | None:
    result = job.result or {}
    succeeded = job.state is JobState.SUCCEEDED
    note = "" if succeeded else _failure(job)
    if job.kind == stage.plan.name:
        return _Mark(job.id, False, succeeded, _would_change(result), note)
    if job.kind == stage.apply.name:
        if result.get("plan_changed"):
            return _Mark(job.id, False, True, _would_change(result))
        return _Mark(job.id, True, succeeded, 0, note)
    if job.kind not in (PLAN_KIND, APPLY_KIND):
        return None
    section = _section(job, stage.name)
    if section is None:
        return None
    status = section.get("status")
    report = section.get("report")
    as_plan = job.kind == PLAN_KIND or bool(result.get("plan_changed"))
    if status == StageStatus.NOT_RUN.value:
        return None
    if status == StageStatus.WAITS.value:
        return _Mark(job.id, False, True, 1)
    ok = status != StageStatus.FAILED.value
    note = "" if ok else str(section.get("note") or "")
    return _Mark(job.id, not as_plan, ok, _would_change(report) if as_plan else 0, note)


def _change_state(marks: Sequence[_Mark]) -> StageState:
    if not marks:
        return StageState.NOT_STARTED
    last = marks[0]
    if not last.ok:
        return StageState.FAILED
    if last.apply or last.would_change == 0:
        return StageState.APPLIED
    applied_before = any(m.apply and m.ok for m in marks[1:])
    return StageState.DRIFTED if applied_before else StageState.PLANNED


def stage_states(
    cluster: str,
    stages: Sequence[Stage],
    *,
    servers: int,
    history: Sequence[JobView],
    alerts: Sequence[AlertView],
) -> StageBoard:
    """Each stage's state and the next action (``history`` newest first, finished jobs)."""
    base = f"/clusters/{cluster}"
    rows: list[StageRow] = [
        StageRow(
            "servers",
            "Servers",
            StageState.DONE if servers else StageState.NOT_STARTED,
            detail=f"{servers} server{'s' if servers != 1 else ''}",
            action=Action("Add servers", f"/servers/add?cluster={cluster}", "GET", UserRole.ADMIN),
        )
    ]
    check = next((j for j in history if j.kind == PREFLIGHT_KIND), None)
    if check is None:
        checked = StageState.NOT_STARTED
    else:
        passed = check.state is JobState.SUCCEEDED and bool((check.result or {}).get("ok"))
        checked = StageState.DONE if passed else StageState.FAILED
    rows.append(
        StageRow(
            "preflight",
            "Preflight check",
            checked,
            job=check.id if check else None,
            action=Action("Run preflight", f"{base}/check"),
        )
    )
    for stage in stages:
        marks = [m for m in (_mark(j, stage) for j in history) if m is not None]
        state = _change_state(marks)
        critical = [
            a
            for a in alerts
            if a.component == stage.name
            and a.severity == Severity.CRITICAL
            and stage.breaks_setup(a.key)
        ]
        detail = ""
        if critical:
            state = StageState.FAILING
            many = f" (and {len(critical) - 1} more)" if len(critical) > 1 else ""
            detail = f"{critical[0].message}{many}"
        job = marks[0].job if marks else None
        if state is StageState.FAILED:
            detail = marks[0].note  # why, where a person looks first
        if state in (StageState.PLANNED, StageState.DRIFTED) and job is not None:
            action = _review(job)
        else:
            action = Action(f"Plan {stage.title}", f"{base}/stages/{stage.name}/plan")
        rows.append(StageRow(stage.name, stage.title, state, job=job, detail=detail, action=action))
    return _with_next(rows, base)


_FINISHED = (StageState.DONE, StageState.APPLIED)


def _with_next(rows: list[StageRow], base: str) -> StageBoard:
    """The first stage not finished gives the next action; among the changes, more than
    one unfinished makes it the whole deploy's plan (or the review of that plan)."""
    pending = [i for i, r in enumerate(rows) if r.state not in _FINISHED]
    if not pending:
        return StageBoard(tuple(rows), None)
    first = pending[0]
    changes = [i for i in pending if rows[i].key not in ("servers", "preflight")]
    if first < 2 or len(changes) < 2:
        rows[first] = _replace_next(rows[first])
        return StageBoard(tuple(rows), rows[first].action)
    jobs = {rows[i].job for i in changes}
    planned = all(rows[i].state in (StageState.PLANNED, StageState.DRIFTED) for i in changes)
    (job, *others) = jobs
    if planned and job is not None and not others:
        return StageBoard(tuple(rows), _review(job))
    return StageBoard(tuple(rows), Action("Plan the whole deploy", f"{base}/deploy"))


def _review(job: int) -> Action:
    return Action(f"Review plan #{job}", f"/jobs/{job}", "GET", UserRole.VIEWER)


def _replace_next(row: StageRow) -> StageRow:
    return StageRow(row.key, row.title, row.state, row.job, row.detail, row.action, next=True)


async def load(manager: Manager, cluster: str, stages: Sequence[Stage]) -> StageBoard:
    """The board of ``cluster`` from three queries: its servers, the newest finished jobs
    of each kind a stage reads, its open alerts."""
    view = await get_cluster(manager, cluster)
    kinds = {PREFLIGHT_KIND, PLAN_KIND, APPLY_KIND}
    kinds |= {k for s in stages for k in (s.plan.name, s.apply.name)}
    history = await store.latest_per_kind(manager, cluster, sorted(kinds), PER_KIND)
    alerts = await read.cluster_alerts(manager, cluster, open_only=True, limit=1000)
    return stage_states(cluster, stages, servers=len(view.servers), history=history, alerts=alerts)
