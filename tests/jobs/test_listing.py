"""Lists of jobs for pages: summaries without reports, and each cluster's latest finished
job of a kind, in one query however many clusters (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import JobSummary

REPORT = {"ok": True, "checks": [{"host": "idp1", "check": "disk", "status": "pass"}]}


async def add(
    manager: Manager,
    cluster: str,
    kind: str,
    state: JobState | None,
    result: dict[str, Any] | None = None,
) -> int:
    """A job of ``kind`` finished in ``state`` with ``result`` (left queued when None)."""
    job = await store.create(
        manager, kind=kind, cluster=cluster, mutating=False, user="t", params={}, runner="x"
    )
    if state is not None:
        await store.finish(manager, job.id, state, result=result)
    return job.id


async def test_latest_finished_is_the_newest_finished_job_with_a_report(
    manager: Manager,
) -> None:
    older = await add(manager, "a", "preflight", JobState.SUCCEEDED, REPORT)
    newest_a = await add(manager, "a", "preflight", JobState.FAILED, {**REPORT, "ok": False})
    # Newer, but without a report: one that failed before it had one, one still queued,
    # and another kind.
    await add(manager, "a", "preflight", JobState.FAILED, None)
    await add(manager, "a", "preflight", JobState.INTERRUPTED, {})
    await add(manager, "a", "preflight", None)
    await add(manager, "a", "apply", JobState.SUCCEEDED, REPORT)
    only_b = await add(manager, "b", "preflight", JobState.SUCCEEDED, REPORT)
    await add(manager, "c", "preflight", JobState.FAILED, None)
    assert older < newest_a

    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(manager.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        latest = await store.latest_finished(manager, "preflight", ["a", "b", "c", "none"])
    finally:
        event.remove(manager.db.engine.sync_engine, "before_cursor_execute", seen)

    assert {c: j.id for c, j in latest.items()} == {"a": newest_a, "b": only_b}
    assert latest["a"].result == {**REPORT, "ok": False}
    assert len(statements) == 1
    assert await store.latest_finished(manager, "preflight", []) == {}


async def test_summaries_are_the_newest_jobs_without_their_reports(manager: Manager) -> None:
    first = await add(manager, "a", "preflight", JobState.SUCCEEDED, REPORT)
    second = await add(manager, "b", "plan", None)
    summaries = await store.summaries(manager, limit=10)
    assert [s.id for s in summaries] == [second, first]
    assert all(isinstance(s, JobSummary) for s in summaries)
    assert summaries[0].state is JobState.QUEUED and not summaries[0].finished
    assert summaries[1].state is JobState.SUCCEEDED and summaries[1].finished
    assert [s.id for s in await store.summaries(manager, cluster="a")] == [first]
    assert [s.id for s in await store.summaries(manager, limit=1)] == [second]


async def test_summaries_carry_each_reports_verdict_and_step_counts(manager: Manager) -> None:
    applied = {"ok": False, "counts": {"changed": 2, "failed": 1}, "hosts": {"idp1": []}}
    preflight = await add(manager, "a", "preflight", JobState.SUCCEEDED, REPORT)
    apply = await add(manager, "a", "apply", JobState.FAILED, applied)
    odd = await add(manager, "a", "status", JobState.SUCCEEDED, {"ok": True, "counts": [1]})
    broken = await add(manager, "a", "plan", None)
    await store.finish(manager, broken, JobState.FAILED, error="no route to idp1")

    found = {s.id: s for s in await store.summaries(manager)}
    assert (found[preflight].ok, found[preflight].counts) == (True, None)
    assert (found[apply].ok, found[apply].counts) == (False, {"changed": 2, "failed": 1})
    # A report whose counts are not steps per outcome has none.
    assert (found[odd].ok, found[odd].counts) == (True, None)
    assert (found[broken].ok, found[broken].error) == (None, "no route to idp1")
    assert found[apply].runner == "x" and not found[apply].cancel_requested

    older = await store.summaries(manager, before_id=apply, limit=5)
    assert [s.id for s in older] == [preflight]
