"""The guided deploy: every stage's plan as one reviewable plan, then the stages applied
in order.

A :class:`Stage` is a change with a plan and an apply kind (the components that have
both, in registry order).  ``deploy-plan`` plans every stage and keeps one result: the
keys of a plan's result (``hosts``, ``counts``, ``dry_run``, ``ok``, ``digest``) plus
``stages``, each stage's own plan.  ``deploy`` applies each stage once the stages it
needs are applied (every earlier stage, unless it names the ones it needs: see
:func:`needs`), so stages that do not depend on each other run side by side; a stage
whose needs failed does not run.  With a reviewed digest it first plans again and
changes nothing when the fresh plan differs.

A stage whose plan fails while a stage it needs still has changes to make *waits*: its
plan depends on those changes (on bare servers, a later stage finds nothing to build
on), so the deploy plan says so, leaves it out of the digest and does not count it as
a failure; the deploy plans and applies it once the stages it needs are applied.

The deploy touches every component: while it runs, it changes whatever any stage
changes.  Its stages share one connection per host, and what one stage's planner read
is not read again by the next until something changed (:func:`shared_access`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clustermgr.core.access import get_cluster, shared_access
from clustermgr.errors import ClustermgrError
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, Report
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.plan.timing import section

PLAN_KIND = "deploy-plan"
APPLY_KIND = "deploy"


@dataclass(frozen=True)
class Stage:
    """One change of the deploy: a component's plan and apply kinds."""

    name: str
    title: str
    plan: JobKind[Any]
    apply: JobKind[Any]
    #: The stages it needs applied first (None: every stage before it).
    needs: tuple[str, ...] | None = None
    #: The rules of its component's alerts (an alert key up to its first ``:``) that say
    #: what it set up is broken (None: every alert of the component).
    setup_alerts: tuple[str, ...] | None = None

    def breaks_setup(self, key: str) -> bool:
        """Whether an alert of its component with this key says its set-up is broken."""
        return self.setup_alerts is None or key.split(":", 1)[0] in self.setup_alerts


class StageStatus(StrEnum):
    #: Planned: its plan is part of the deploy plan's digest.
    PLANNED = "planned"
    #: Its plan needs earlier stages applied first; planned and applied by the deploy.
    WAITS = "waits"
    APPLIED = "applied"
    FAILED = "failed"
    #: The deploy stopped before it (an earlier stage failed, or the job was cancelled).
    NOT_RUN = "not run"


@dataclass(frozen=True)
class StageReport:
    name: str
    title: str
    status: StageStatus
    #: Its plan (in a deploy plan) or its apply (an ApplyReport, as every component's
    #: change returns); None when it did not run or raised.
    report: Report | None = None
    #: Why it waits, failed or did not run, in words.
    note: str = ""
    #: Seconds its plan or apply took, end to end (facts, certificates and steps).
    seconds: float = field(default=0.0, compare=False)

    @property
    def steps(self) -> ApplyReport | None:
        return self.report if isinstance(self.report, ApplyReport) else None

    @property
    def digest(self) -> str:
        if self.steps is not None:
            return self.steps.digest
        if self.report is None:
            return ""
        shown = json.dumps(self.report.as_dict(), sort_keys=True, default=str)
        return hashlib.sha256(shown.encode()).hexdigest()

    def count(self, outcome: Outcome) -> int:
        return self.steps.count(outcome) if self.steps is not None else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status.value,
            "note": self.note,
            "report": self.report.as_dict() if self.report is not None else None,
        }


@dataclass(frozen=True)
class DeployReport:
    """Every stage's plan or apply, read as one plan or apply."""

    dry_run: bool
    stages: tuple[StageReport, ...]
    #: A deploy that changed nothing: the fresh plan is not the reviewed one.
    reviewed: str | None = None
    message: str = field(default="")
    #: Seconds from its first stage's start to its last one's end (stages overlap).
    wall: float = field(default=0.0, compare=False)

    @property
    def plan_changed(self) -> bool:
        return self.reviewed is not None

    @property
    def ok(self) -> bool:
        """A plan: no stage failed (waiting is fine).  An apply: every stage applied."""
        if self.plan_changed:
            return False
        if self.dry_run:
            return all(s.status is not StageStatus.FAILED for s in self.stages)
        return all(s.status is StageStatus.APPLIED for s in self.stages)

    @property
    def digest(self) -> str:
        """The planned stages' digests, by stage: stages that wait are not in it."""
        planned = [[s.name, s.digest] for s in self.stages if s.status is StageStatus.PLANNED]
        return hashlib.sha256(json.dumps(planned).encode()).hexdigest()

    def count(self, outcome: Outcome) -> int:
        return sum(s.count(outcome) for s in self.stages)

    def hosts(self) -> dict[str, list[dict[str, Any]]]:
        """Every stage's steps per host, in stage order, each titled with its stage."""
        merged: dict[str, list[dict[str, Any]]] = {}
        for stage in self.stages:
            if stage.steps is None:
                continue
            for host, results in stage.steps.results.items():
                rows = merged.setdefault(host, [])
                for r in results:
                    row = r.as_dict()
                    row["title"] = f"{stage.title}: {r.title}"
                    rows.append(row)
        return merged

    def timing(self) -> dict[str, Any]:
        """Every stage's steps timed as one report's, plus each stage's own totals: its
        seconds end to end and its steps' seconds; ``seconds`` is the stages' sum, and
        ``wall`` the deploy's own seconds (less, where stages ran side by side)."""
        out = section(
            (s.title, r) for s in self.stages if s.steps is not None for r in s.steps.all()
        )
        stages = [
            {
                "name": s.name,
                "title": s.title,
                "seconds": round(s.seconds, 3),
                "steps": round(sum(r.duration for r in s.steps.all()) if s.steps else 0.0, 3),
            }
            for s in self.stages
        ]
        return {
            "seconds": round(sum(s.seconds for s in self.stages), 3),
            "wall": round(self.wall, 3),
            "stages": stages,
            **out,
        }

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "plan": "deploy",
            "dry_run": self.dry_run,
            "digest": self.digest,
            "ok": self.ok,
            "counts": {o.value: self.count(o) for o in Outcome},
            "hosts": self.hosts(),
            "stages": [s.as_dict() for s in self.stages],
            "timing": self.timing(),
        }
        if self.plan_changed:
            out.update(plan_changed=True, reviewed_digest=self.reviewed, message=self.message)
        return out


PLAN_CHANGED = (
    "the plan changed since it was reviewed (a server or the inventory changed): "
    "nothing was changed; review the new plan below and apply it"
)


def _params(kind: JobKind[Any], ctx: JobContext[Any]) -> JobContext[Any]:
    """``ctx`` for one stage: that kind's default params (InvalidInput when it has
    required ones), no reviewed digest."""
    return JobContext(
        ctx.manager,
        ctx.cluster,
        kind.parse({}),
        ctx.emit,
        ctx.cancelled,
        actor=ctx.actor,
    )


def _say(ctx: JobContext[Any], message: str) -> None:
    ctx.emit(Event(EventKind.PLAN_STARTED, message))


async def plan_stages(ctx: JobContext[Any], stages: Sequence[Stage]) -> DeployReport:
    """Every stage's plan.  A stage whose plan fails after an earlier stage with changes
    to make waits for it (see the module's docstring).  An unknown cluster is NotFound."""
    await get_cluster(ctx.manager, ctx.cluster)
    started = time.monotonic()
    async with shared_access(ctx.manager, ctx.cluster):
        report = await _plan_stages(ctx, stages)
    return dataclasses.replace(report, wall=time.monotonic() - started)


async def _plan_stages(ctx: JobContext[Any], stages: Sequence[Stage]) -> DeployReport:
    out: list[StageReport] = []
    before = _closure(needs(stages))
    for number, stage in enumerate(stages, 1):
        _say(ctx, f"stage {number}/{len(stages)}: planning {stage.title}")
        needed = [out[i] for i in before[number - 1]]
        pending = [s.title for s in needed if s.status is StageStatus.WAITS or _changes(s)]
        report, problem, seconds = await _run(stage.plan, ctx)
        if not problem:
            out.append(
                StageReport(stage.name, stage.title, StageStatus.PLANNED, report, "", seconds)
            )
        elif pending:
            note = (
                f"planned once {', '.join(pending)} {'is' if len(pending) == 1 else 'are'} "
                f"applied: planning it now fails ({problem})"
            )
            out.append(StageReport(stage.name, stage.title, StageStatus.WAITS, None, note, seconds))
        else:
            out.append(
                StageReport(stage.name, stage.title, StageStatus.FAILED, report, problem, seconds)
            )
    return DeployReport(True, tuple(out))


async def apply_stages(
    ctx: JobContext[Any], stages: Sequence[Stage], reviewed: str | None
) -> DeployReport:
    """Apply the stages in order, stopping at the first that fails.  With ``reviewed``
    (a deploy plan's digest), plan first and change nothing when the digest differs.
    An unknown cluster is NotFound."""
    await get_cluster(ctx.manager, ctx.cluster)
    started = time.monotonic()
    async with shared_access(ctx.manager, ctx.cluster):
        report = await _apply_stages(ctx, stages, reviewed)
    return dataclasses.replace(report, wall=time.monotonic() - started)


async def _apply_stages(
    ctx: JobContext[Any], stages: Sequence[Stage], reviewed: str | None
) -> DeployReport:
    if reviewed is not None:
        fresh = await _plan_stages(ctx, stages)
        if fresh.digest != reviewed:
            ctx.emit(Event(EventKind.PLAN_FINISHED, PLAN_CHANGED))
            return DeployReport(True, fresh.stages, reviewed=reviewed, message=PLAN_CHANGED)
    needed = needs(stages)
    if any(deps != list(range(i)) for i, deps in enumerate(needed)):
        # Stages side by side would race to make the cluster CA they each use.
        await ensure_ca(ctx.manager, ctx.cluster)
    out: list[StageReport | None] = [None] * len(stages)
    finished = [asyncio.Event() for _ in stages]

    async def one(number: int) -> None:
        stage = stages[number]
        try:
            for earlier in needed[number]:
                await finished[earlier].wait()
            ran = [r for r in (out[e] for e in needed[number]) if r is not None]
            blocked = next((r for r in ran if r.status is not StageStatus.APPLIED), None)
            note = ""
            if blocked is not None:
                not_run = blocked.status is StageStatus.NOT_RUN
                note = blocked.note if not_run else f"{blocked.title} failed before it"
            elif ctx.cancelled():
                note = "the deploy was cancelled before it"
            if note:
                out[number] = StageReport(stage.name, stage.title, StageStatus.NOT_RUN, note=note)
                return
            _say(ctx, f"stage {number + 1}/{len(stages)}: applying {stage.title}")
            report, problem, seconds = await _run(stage.apply, ctx)
            status = StageStatus.FAILED if problem else StageStatus.APPLIED
            out[number] = StageReport(stage.name, stage.title, status, report, problem, seconds)
        finally:
            finished[number].set()

    try:
        async with asyncio.TaskGroup() as group:
            for number in range(len(stages)):
                group.create_task(one(number))
    except BaseExceptionGroup as failed:  # one stage's unexpected error, as it was raised
        raise failed.exceptions[0] from None
    return DeployReport(False, tuple(r for r in out if r is not None))


def _closure(needed: list[list[int]]) -> list[list[int]]:
    """For each stage, every stage it needs, directly or through another."""
    out: list[list[int]] = []
    for deps in needed:
        found = set(deps)
        for d in deps:
            found.update(out[d])
        out.append(sorted(found))
    return out


def needs(stages: Sequence[Stage]) -> list[list[int]]:
    """For each stage, the positions of the earlier stages it needs applied first: those
    it names, or every earlier one when it names none.  A stage runs once they are
    applied, beside any other stage whose needs are met."""
    where = {stage.name: i for i, stage in enumerate(stages)}
    return [
        list(range(i))
        if stage.needs is None
        else sorted(where[n] for n in stage.needs if n in where and where[n] < i)
        for i, stage in enumerate(stages)
    ]


async def _run(kind: JobKind[Any], ctx: JobContext[Any]) -> tuple[Report | None, str, float]:
    """The stage's report, what went wrong in words ("" when it is ok), and the
    seconds it took."""
    started = time.monotonic()
    report, problem = await _outcome(kind, ctx)
    return report, problem, time.monotonic() - started


async def _outcome(kind: JobKind[Any], ctx: JobContext[Any]) -> tuple[Report | None, str]:
    try:
        report = await kind.run(_params(kind, ctx))
    except ClustermgrError as exc:
        return None, exc.message
    if report.ok:
        return report, ""
    return report, _failed_steps(report) if isinstance(report, ApplyReport) else "it failed"


def _changes(stage: StageReport) -> bool:
    return stage.count(Outcome.WOULD_CHANGE) > 0


def _failed_steps(report: ApplyReport) -> str:
    bad = [r for r in report.all() if r.outcome in (Outcome.FAILED, Outcome.SKIPPED)]
    first = bad[0] if bad else None
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return f"{first.host}: {first.title}: {first.reason}{more}" if first else "it failed"


def kinds(stages: Sequence[Stage]) -> tuple[JobKind[NoParams], JobKind[NoParams]]:
    """The ``deploy-plan`` kind (reads only) and the ``deploy`` kind (changes servers).
    The deploy touches every component (``touches=None``): the watcher pauses them all
    while it runs."""
    chosen = tuple(stages)

    async def planned(ctx: JobContext[NoParams]) -> Report:
        return await plan_stages(ctx, chosen)

    async def applied(ctx: JobContext[NoParams]) -> Report:
        return await apply_stages(ctx, chosen, ctx.plan_digest)

    return (
        JobKind(
            PLAN_KIND,
            "plan the whole deploy",
            False,
            planned,
            NoParams,
            applied_by=APPLY_KIND,
            report_template="jobs/deploy.html",
        ),
        JobKind(
            APPLY_KIND,
            "deploy every stage",
            True,
            applied,
            NoParams,
            report_template="jobs/deploy.html",
            touches=None,
        ),
    )
