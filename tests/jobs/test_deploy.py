"""The deploy's plan and apply over stand-in stages: one reviewable plan, the stages
applied in order, the first failure stops it, a changed plan changes nothing, and a
stage whose plan needs earlier stages applied waits instead of failing the plan.

Each stage is a real plan/apply pair of job kinds (:func:`plan_and_apply`) around a
stand-in change that reaches no server; the cluster is a real one in the store.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from clustermgr.components.contract import Component, deploy_stages
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.jobs.deploy import (
    APPLY_KIND,
    PLAN_KIND,
    DeployReport,
    Stage,
    apply_stages,
    kinds,
    plan_stages,
)
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.events import Event
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.plan.timing import StepTiming
from clustermgr.services import clusters

CLUSTER = "dep"


class Change:
    """A stage's change: ``todo`` steps to make; ``broken`` makes its apply fail;
    ``needs`` (another Change) makes its plan fail until that one was applied."""

    def __init__(
        self,
        name: str,
        todo: int,
        *,
        broken: bool = False,
        needs: Change | None = None,
        took: float = 0.0,
    ):
        self.name, self.todo, self.broken, self.needs = name, todo, broken, needs
        #: Seconds its steps report, and the stage sleeps.
        self.took = took
        self.applied = 0
        self.runs: list[bool] = []

    async def __call__(self, ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
        self.runs.append(dry_run)
        await asyncio.sleep(self.took)
        if self.needs is not None and not self.needs.applied:
            raise InvalidInput(f"{self.needs.name} is not set up")
        left = 0 if self.applied else self.todo
        if dry_run:
            outcome = Outcome.WOULD_CHANGE
        elif self.broken:
            outcome = Outcome.FAILED
        else:
            outcome = Outcome.CHANGED
            self.applied += 1
        rows = [
            StepResult(
                f"h1:{self.name}-{i}",
                "h1",
                f"{self.name} {i}",
                outcome,
                "r",
                duration=self.took,
                timing=StepTiming(turn_wait=self.took, round_trips=2, ssh=self.took / 2),
            )
            for i in range(left)
        ] + [StepResult(f"h1:{self.name}-ok", "h1", f"{self.name} ok", Outcome.UNCHANGED, "r")]
        return ApplyReport(self.name, dry_run, {"h1": rows})


def stage(change: Change, needs: tuple[str, ...] | None = None) -> Stage:
    plan, apply = plan_and_apply(
        f"{change.name}-plan", f"{change.name}-apply", change.name, change, NoParams
    )
    return Stage(change.name, change.name.title(), plan, apply, needs)


class Gated(Change):
    """A change whose apply waits for ``gate``: it finishes only if another stage opens
    the gate while it runs (side by side), or the test times out."""

    def __init__(self, name: str, gate: asyncio.Event, *, opens: asyncio.Event | None = None):
        super().__init__(name, 1)
        self.gate, self.opens = gate, opens

    async def __call__(self, ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
        if not dry_run:
            if self.opens is not None:
                self.opens.set()
            await self.gate.wait()
        return await super().__call__(ctx, dry_run)


@pytest.fixture
async def ctx(manager: Manager) -> JobContext[NoParams]:
    await clusters.create_cluster(manager, CLUSTER)
    events: list[Event] = []
    return JobContext(manager, CLUSTER, NoParams(), events.append, lambda: False, actor="tester")


def statuses(report: DeployReport) -> list[str]:
    return [s.status.value for s in report.stages]


async def test_the_plan_is_one_reviewable_result_with_a_section_per_stage(
    ctx: JobContext[NoParams],
) -> None:
    a, b = Change("a", 2), Change("b", 1)
    plan = await plan_stages(ctx, [stage(a), stage(b)])
    assert plan.ok and plan.dry_run and statuses(plan) == ["planned", "planned"]
    shown = plan.as_dict()
    assert {"hosts", "counts", "dry_run", "ok", "digest"} <= shown.keys()
    assert shown["counts"]["would change"] == 3 and shown["counts"]["unchanged"] == 2
    assert [r["title"] for r in shown["hosts"]["h1"]][:3] == ["A: a 0", "A: a 1", "A: a ok"]
    assert [
        (s["name"], s["title"], s["report"]["counts"]["would change"]) for s in shown["stages"]
    ] == [
        ("a", "A", 2),
        ("b", "B", 1),
    ]
    assert a.applied == b.applied == 0, "planning changes nothing"


async def test_the_digest_follows_the_stages_plans(ctx: JobContext[NoParams]) -> None:
    a, b = Change("a", 2), Change("b", 1)
    first = await plan_stages(ctx, [stage(a), stage(b)])
    again = await plan_stages(ctx, [stage(a), stage(b)])
    assert first.digest == again.digest
    b.todo = 2
    assert (await plan_stages(ctx, [stage(a), stage(b)])).digest != first.digest


async def test_the_reviewed_deploy_applies_in_order_and_a_second_is_unchanged(
    ctx: JobContext[NoParams],
) -> None:
    a, b = Change("a", 2), Change("b", 1)
    stages = [stage(a), stage(b)]
    plan = await plan_stages(ctx, stages)
    done = await apply_stages(ctx, stages, plan.digest)
    assert done.ok and not done.dry_run and statuses(done) == ["applied", "applied"]
    assert done.count(Outcome.CHANGED) == 3 and a.applied == b.applied == 1
    again = await apply_stages(ctx, stages, None)
    assert again.ok and again.count(Outcome.CHANGED) == 0
    assert again.count(Outcome.UNCHANGED) == 2, "each stage's steps, all unchanged"


async def test_a_changed_plan_changes_nothing_and_shows_the_new_plan(
    ctx: JobContext[NoParams],
) -> None:
    a, b = Change("a", 2), Change("b", 1)
    stages = [stage(a), stage(b)]
    reviewed = await plan_stages(ctx, stages)
    b.todo = 4
    refused = await apply_stages(ctx, stages, reviewed.digest)
    assert not refused.ok and refused.plan_changed and a.applied == b.applied == 0
    shown = refused.as_dict()
    assert shown["plan_changed"] is True and shown["reviewed_digest"] == reviewed.digest
    assert shown["dry_run"] is True and shown["counts"]["would change"] == 6


async def test_the_first_failing_stage_stops_the_deploy(ctx: JobContext[NoParams]) -> None:
    a, b, c = Change("a", 1), Change("b", 1, broken=True), Change("c", 1)
    done = await apply_stages(ctx, [stage(a), stage(b), stage(c)], None)
    assert not done.ok and statuses(done) == ["applied", "failed", "not run"]
    assert c.runs == [], "a later stage is not even planned"
    assert "b 0" in done.stages[1].note and done.stages[2].note == "B failed before it"


async def test_a_stage_whose_plan_needs_an_earlier_stage_waits(ctx: JobContext[NoParams]) -> None:
    a = Change("a", 1)
    b = Change("b", 1, needs=a)
    stages = [stage(a), stage(b)]
    plan = await plan_stages(ctx, stages)
    assert plan.ok and statuses(plan) == ["planned", "waits"]
    assert (
        plan.stages[1].note == "planned once A is applied: planning it now fails (a is not set up)"
    )
    only_a = await plan_stages(ctx, stages[:1])
    assert plan.digest == only_a.digest, "a waiting stage is not in the digest"
    done = await apply_stages(ctx, stages, plan.digest)
    assert done.ok and statuses(done) == ["applied", "applied"] and b.applied == 1


async def test_a_plan_failing_with_nothing_before_it_to_wait_for_fails(
    ctx: JobContext[NoParams],
) -> None:
    a = Change("a", 0)
    b = Change("b", 1, needs=Change("never", 1))
    plan = await plan_stages(ctx, [stage(a), stage(b)])
    assert not plan.ok and statuses(plan) == ["planned", "failed"]
    assert plan.stages[1].note == "never is not set up"


async def test_an_unknown_cluster_is_not_found(ctx: JobContext[NoParams]) -> None:
    other = JobContext(ctx.manager, "nope", NoParams(), ctx.emit, ctx.cancelled)
    with pytest.raises(NotFound):
        await plan_stages(other, [stage(Change("a", 1))])


def test_the_kinds_plan_reads_only_and_names_the_deploy_that_applies_it() -> None:
    plan, deploy = kinds([stage(Change("a", 1))])
    assert (plan.name, plan.mutating, plan.applied_by) == (PLAN_KIND, False, APPLY_KIND)
    assert (deploy.name, deploy.mutating, deploy.applied_by) == (APPLY_KIND, True, None)
    any_params: Any = plan.parse({})
    assert isinstance(any_params, NoParams)


class Note:
    """A change whose report is not an ApplyReport (what a component may return)."""

    def __init__(self, ok: bool) -> None:
        self.ok = ok

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "said": "hi"}


async def test_a_stage_with_another_report_is_kept_as_it_is(ctx: JobContext[NoParams]) -> None:
    async def note(ctx: JobContext[NoParams]) -> Note:
        return Note(True)

    async def broken(ctx: JobContext[NoParams]) -> Note:
        return Note(False)

    plain = Stage(
        "n",
        "N",
        JobKind("n-plan", "n", False, note, NoParams),
        JobKind("n-apply", "n", True, broken, NoParams),
    )
    plan = await plan_stages(ctx, [plain])
    assert plan.ok and plan.as_dict()["stages"][0]["report"] == {"ok": True, "said": "hi"}
    assert len(plan.digest) == 64 and plan.as_dict()["counts"]["would change"] == 0
    done = await apply_stages(ctx, [plain], None)
    assert not done.ok and done.stages[0].note == "it failed"


async def test_the_deploy_times_each_stage_and_sums_them(ctx: JobContext[NoParams]) -> None:
    a, b = Change("a", 2, took=0.2), Change("b", 1, took=0.1)
    done = await apply_stages(ctx, [stage(a), stage(b)], None)
    timing = done.as_dict()["timing"]
    assert timing == done.timing()
    (ta, tb) = timing["stages"]
    assert (ta["name"], ta["steps"], tb["name"], tb["steps"]) == ("a", 0.4, "b", 0.1)
    # A stage's seconds run end to end (it sleeps before its steps); the deploy's sum them.
    assert ta["seconds"] >= 0.2 and tb["seconds"] >= 0.1
    assert timing["seconds"] == round(done.stages[0].seconds + done.stages[1].seconds, 3)
    assert timing["hosts"]["h1"]["round_trips"] == 6 and timing["turn_wait"] == 0.5
    assert [r["title"] for r in timing["slowest"]] == ["A: a 0", "A: a 1", "B: b 0"]


async def test_the_deploy_digest_leaves_timing_out(ctx: JobContext[NoParams]) -> None:
    quick = await plan_stages(ctx, [stage(Change("a", 2))])
    slow = await plan_stages(ctx, [stage(Change("a", 2, took=0.1))])
    assert quick.timing() != slow.timing()
    assert quick.digest == slow.digest


async def test_a_stage_that_needs_only_the_first_runs_beside_the_others(
    ctx: JobContext[NoParams],
) -> None:
    """x and y each need only base: x holds until y has started, so the deploy ends
    only if they run side by side."""
    started = asyncio.Event()
    base, x = Change("base", 1), Gated("x", started)
    y = Gated("y", asyncio.Event(), opens=started)
    y.gate.set()
    stages = [stage(base), stage(x), stage(y, ("base",))]
    done = await asyncio.wait_for(apply_stages(ctx, stages, None), timeout=30)
    assert done.ok and statuses(done) == ["applied"] * 3
    assert [s.name for s in done.stages] == ["base", "x", "y"], "reported in stage order"


async def test_a_failure_stops_only_the_stages_that_need_it(ctx: JobContext[NoParams]) -> None:
    base, x, y, z = Change("base", 1), Change("x", 1, broken=True), Change("y", 1), Change("z", 1)
    stages = [stage(base), stage(x), stage(y, ("base",)), stage(z)]
    done = await apply_stages(ctx, stages, None)
    assert statuses(done) == ["applied", "failed", "applied", "not run"]
    assert done.stages[3].note == "X failed before it" and not done.ok
    broken_base = Change("base", 1, broken=True)
    w = Change("w", 1)
    stages = [stage(broken_base), stage(w, ("base",)), stage(Change("v", 1), ("w",))]
    done = await apply_stages(ctx, stages, None)
    assert statuses(done) == ["failed", "not run", "not run"]
    assert done.stages[1].note == done.stages[2].note == "Base failed before it"


async def test_a_plan_waits_only_for_the_stages_it_needs(ctx: JobContext[NoParams]) -> None:
    base, x = Change("base", 0), Change("x", 1)
    y = Change("y", 1, needs=Change("never", 1))
    plan = await plan_stages(ctx, [stage(base), stage(x), stage(y, ("base",))])
    assert statuses(plan) == ["planned", "planned", "failed"], "x's changes are not y's"


def test_a_component_may_need_only_components_before_it() -> None:
    first, second = Component("first", "First"), Component("second", "Second", needs=("first",))
    assert deploy_stages([first, second]) == ()  # neither has a plan: no stage
    with pytest.raises(ValueError, match="first needs second: not before it"):
        deploy_stages([Component("first", "First", needs=("second",)), second])
