"""The watcher leaves a component alone while a job changes it, with real job rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.jobs import store as jobs
from clustermgr.jobs.kinds import JobContext, JobKind, KindCatalog, NoParams, Report
from clustermgr.jobs.models import Job, JobState
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.watcher import Watcher
from clustermgr.services import clusters
from fakewatch import Fake

DOWN = Finding("thing-down:x", Severity.CRITICAL, "the thing is down")


async def _never(ctx: JobContext[NoParams]) -> Report:
    raise AssertionError("not run")


KINDS = KindCatalog(
    [
        JobKind("fake-fix", "fix the fake", True, _never, NoParams, touches=frozenset({"fake"})),
        JobKind("other-fix", "fix another", True, _never, NoParams, touches=frozenset({"other"})),
        JobKind("fake-read", "read the fake", False, _never, NoParams),
    ]
)


@pytest.fixture
async def quick(manager: Manager) -> Manager:
    manager.settings = manager.settings.model_copy(update={"watch_timeout": 0.2})
    await clusters.create_cluster(manager, "a")
    return manager


async def _start(manager: Manager, kind: str, *, mutating: bool = True) -> int:
    """A job of ``kind`` on cluster "a", claimed: running, as a runner leaves it."""
    job = await jobs.create(
        manager,
        kind=kind,
        cluster="a",
        mutating=mutating,
        user="admin",
        params={},
        runner="embedded",
    )
    assert await jobs.claim(manager, job.id)
    return job.id


async def _open_keys(manager: Manager) -> list[str]:
    return [a.key for a in await store.alerts(manager, "a", open_only=True)]


async def test_a_busy_component_is_neither_judged_nor_repaired_until_the_job_ends(
    quick: Manager,
) -> None:
    fake = Fake(watched=["a"], findings=[DOWN])
    watcher = Watcher(quick, [fake], kinds=KINDS)
    try:
        (first,) = await watcher.cycle()  # before the job: the fake is down
        assert [a.key for a in first.opened] == [DOWN.key] and fake.repaired == ["a"]

        job = await _start(quick, "fake-fix")
        fake.findings = []  # what the job does: the alert would resolve if judged now
        for _ in range(2):
            (paused,) = await watcher.cycle()
            assert paused.watched and paused.paused_by == job
            assert paused.as_dict()["paused_by"] == job
            assert not paused.opened and not paused.resolved
        assert fake.checked == ["a"] and fake.repaired == ["a"]  # no check, no repair
        assert fake.forgotten == ["a"]  # once: the next check reads the cluster anew
        assert await _open_keys(quick) == [DOWN.key]  # left as it was, not resolved
        latest = await store.latest(quick, "a", "fake")
        assert latest is not None and latest.data == {"step": 2, "paused_by": job}

        await jobs.finish(quick, job, JobState.SUCCEEDED)
        (resumed,) = await watcher.cycle()
        assert resumed.paused_by is None and fake.checked == ["a", "a"]
        assert [a.key for a in resumed.resolved] == [DOWN.key]
        latest = await store.latest(quick, "a", "fake")
        assert latest is not None and "paused_by" not in latest.data
    finally:
        await watcher.close()


async def test_jobs_that_do_not_change_the_component_leave_it_watched(quick: Manager) -> None:
    fake = Fake(watched=["a"], findings=[DOWN])
    watcher = Watcher(quick, [fake], kinds=KINDS)
    try:
        other = await _start(quick, "other-fix")
        await _start(quick, "fake-read", mutating=False)  # reads only
        (report,) = await watcher.cycle()
        assert report.paused_by is None and [a.key for a in report.opened] == [DOWN.key]

        await jobs.finish(quick, other, JobState.SUCCEEDED)
        unknown = await _start(quick, "from-a-newer-manager")
        (report,) = await watcher.cycle()  # an unknown kind may change anything
        assert report.paused_by == unknown
    finally:
        await watcher.close()


async def test_a_job_whose_process_died_does_not_silence_the_watcher(quick: Manager) -> None:
    fake = Fake(watched=["a"], findings=[DOWN])
    watcher = Watcher(quick, [fake], kinds=KINDS)
    try:
        job = await _start(quick, "fake-fix")
        (report,) = await watcher.cycle()
        assert report.paused_by == job

        # Its runner stopped beating: the row still says running, nothing runs it.
        dead = utcnow() - timedelta(seconds=jobs.STALE_AFTER + 1)
        async with quick.db.session() as session:
            await session.execute(update(Job).where(Job.id == job).values(heartbeat_at=dead))
        assert (await jobs.get(quick, job)).state is JobState.RUNNING
        (report,) = await watcher.cycle()
        assert report.paused_by is None and [a.key for a in report.opened] == [DOWN.key]

        await jobs.beat(quick, job)  # alive after all: paused again
        (report,) = await watcher.cycle()
        assert report.paused_by == job

        # A row from before heartbeats existed: its start stands for its last beat.
        for started, paused_by in ((utcnow(), job), (dead, None)):
            async with quick.db.session() as session:
                await session.execute(
                    update(Job).where(Job.id == job).values(heartbeat_at=None, started_at=started)
                )
            (report,) = await watcher.cycle()
            assert report.paused_by == paused_by
    finally:
        await watcher.close()


async def test_a_job_started_during_a_check_drops_what_the_check_found(quick: Manager) -> None:
    started: list[int] = []

    async def start() -> None:
        started.append(await _start(quick, "fake-fix"))

    fake = Fake(watched=["a"], findings=[DOWN], midway=start)
    watcher = Watcher(quick, [fake], kinds=KINDS)
    try:
        (report,) = await watcher.cycle()
        assert report.paused_by == started[0]
        assert not report.opened and await _open_keys(quick) == []
        assert await store.latest(quick, "a", "fake") is None  # nothing recorded

        # A job that started and ended within one check counts too.
        await jobs.finish(quick, started[0], JobState.SUCCEEDED)

        async def start_and_end() -> None:
            await start()
            await jobs.finish(quick, started[-1], JobState.FAILED)

        fake.midway = start_and_end
        (report,) = await watcher.cycle()
        assert report.paused_by == started[-1] and await _open_keys(quick) == []

        fake.midway = None
        (report,) = await watcher.cycle()
        assert report.paused_by is None and await _open_keys(quick) == [DOWN.key]
    finally:
        await watcher.close()
