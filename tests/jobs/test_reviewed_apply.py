"""Applying what was reviewed: a plan's digest, the job origin that carries it, and the
apply that changes nothing when a fresh plan differs.

The change run here is a stand-in for a component's plan-or-apply function (it returns
the reports a planner would, and records whether it was asked to change anything); the
digest, the origin checks and :func:`reviewed_apply` are the real code.
"""

from __future__ import annotations

from typing import Any

import pytest

from clustermgr.errors import InvalidInput
from clustermgr.jobs.kinds import JobContext, NoParams, PlanChanged, reviewed_apply, split_origin
from clustermgr.plan.events import Event
from clustermgr.plan.model import ApplyReport, FileDiff, Outcome, StepResult

DIGEST = "ab" * 32


def result(step: str, outcome: Outcome, diff: str = "", duration: float = 0.0) -> StepResult:
    diffs = (FileDiff("/etc/hosts", diff, False),) if diff else ()
    return StepResult(f"h1:{step}", "h1", step, outcome, "r", diffs=diffs, duration=duration)


def plan(*results: StepResult, dry_run: bool = True) -> ApplyReport:
    return ApplyReport("p", dry_run, {"h1": list(results)})


def test_the_digest_covers_what_would_change_and_nothing_else() -> None:
    base = plan(result("write", Outcome.WOULD_CHANGE, "+a"), result("pkg", Outcome.UNCHANGED))
    same = plan(
        result("write", Outcome.WOULD_CHANGE, "+a", duration=3.0),
        result("pkg", Outcome.UNCHANGED, duration=9.0),
        result("users", Outcome.UNCHANGED),
    )
    assert base.digest == same.digest, "timings and unchanged steps do not count"
    assert len(base.digest) == 64 and base.as_dict()["digest"] == base.digest
    other_diff = plan(result("write", Outcome.WOULD_CHANGE, "+b"))
    more = plan(result("write", Outcome.WOULD_CHANGE, "+a"), result("pkg", Outcome.WOULD_CHANGE))
    assert len({base.digest, other_diff.digest, more.digest}) == 3


def test_origin_keys_are_checked_and_kept_apart_from_the_params() -> None:
    params, origin = split_origin({"x": 1, "plan_job": 4, "plan_digest": DIGEST})
    assert params == {"x": 1}
    assert origin == {"plan_job": 4, "plan_digest": DIGEST}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"plan_digest": "AB" * 32}, "plan_digest must be 64 lowercase hex digits"),
        ({"plan_digest": "ab"}, "plan_digest must be 64 lowercase hex digits"),
        ({"plan_digest": 12}, "plan_digest must be 64 lowercase hex digits"),
        ({"plan_job": "4"}, "plan_job must be a job number"),
        ({"rerun_of": 0}, "rerun_of must be a job number"),
        ({"rerun_of": True}, "rerun_of must be a job number"),
    ],
)
def test_a_malformed_origin_is_a_clear_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        split_origin(raw)


class Change:
    """Stands in for a component's change: the plan it would make now, and the runs."""

    def __init__(self, now: ApplyReport) -> None:
        self.now = now
        self.runs: list[bool] = []

    async def __call__(self, ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
        self.runs.append(dry_run)
        if dry_run:
            return self.now
        changed = [
            result(r.title, Outcome.CHANGED if r.outcome is Outcome.WOULD_CHANGE else r.outcome)
            for r in self.now.all()
        ]
        return plan(*changed, dry_run=False)


def context(digest: str | None, events: list[Event]) -> JobContext[NoParams]:
    no_manager: Any = None  # the stand-in change reaches no server
    return JobContext(
        no_manager,
        "lab",
        NoParams(),
        events.append,
        lambda: False,
        plan_digest=digest,
    )


async def test_an_apply_with_the_reviewed_digest_applies() -> None:
    reviewed = plan(result("write", Outcome.WOULD_CHANGE, "+a"))
    change = Change(reviewed)
    events: list[Event] = []
    report = await reviewed_apply(context(reviewed.digest, events), change)
    assert change.runs == [True, False], "planned again, then applied"
    assert isinstance(report, ApplyReport) and report.ok and not report.dry_run


async def test_an_apply_whose_plan_changed_changes_nothing_and_shows_the_new_plan() -> None:
    reviewed = plan(result("write", Outcome.WOULD_CHANGE, "+a"))
    change = Change(plan(result("write", Outcome.WOULD_CHANGE, "+b")))
    events: list[Event] = []
    report = await reviewed_apply(context(reviewed.digest, events), change)
    assert change.runs == [True], "nothing applied"
    assert isinstance(report, PlanChanged) and not report.ok
    shown = report.as_dict()
    assert shown["plan_changed"] is True and shown["ok"] is False and shown["dry_run"] is True
    assert shown["digest"] == change.now.digest and shown["reviewed_digest"] == reviewed.digest
    assert shown["hosts"]["h1"][0]["diffs"][0]["diff"] == "+b", "the new plan, to review"
    assert any("plan changed since it was reviewed" in e.message for e in events)


async def test_an_apply_without_a_digest_applies_as_before() -> None:
    change = Change(plan(result("write", Outcome.WOULD_CHANGE, "+a")))
    events: list[Event] = []
    report = await reviewed_apply(context(None, events), change)
    assert change.runs == [False]
    assert report.ok
