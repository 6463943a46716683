"""Jobs on the lab: recorded with their events, one mutating job per cluster, cancel, restart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.errors import JobConflict
from clustermgr.jobs import service as jobs
from clustermgr.jobs import store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.models import JobState
from clustermgr.jobs.runner import EmbeddedRunner
from clustermgr.jobs.views import EventView, JobView
from labfixture import Lab

pytestmark = pytest.mark.integration

KINDS = job_kinds()


class HeldRunner:
    """A runner that records submissions and runs nothing: jobs stay queued."""

    name = "held"

    def __init__(self) -> None:
        self.kinds: KindCatalog = KINDS
        self.submitted: list[int] = []

    async def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    async def close(self) -> None:
        return None


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    yield opened
    await opened.close()


async def finish(manager: Manager, job_id: int) -> tuple[list[EventView], JobView]:
    events: list[EventView] = []
    async for item in jobs.follow(manager, job_id, poll=0.05):
        if isinstance(item, EventView):
            events.append(item)
        else:
            return events, item
    raise AssertionError("follow ended without the finished job")


async def test_preflight_job_streams_checks_and_succeeds(manager: Manager) -> None:
    runner = await EmbeddedRunner.start(manager, KINDS)
    job = await jobs.submit(manager, runner, kind_name="preflight", cluster="lab", user="tester")
    events, done = await finish(manager, job.id)
    await runner.close()
    assert done.state is JobState.SUCCEEDED and done.result and done.result["ok"] is True
    checks = [e for e in events if e.kind == "check"]
    assert {e.host for e in checks} >= {"idp1.lab.test", "idp2.lab.test", "proxy1.lab.test"}
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "no event lost"
    assert events[0].kind == "plan_started"


async def test_second_mutating_job_is_refused_not_queued(manager: Manager) -> None:
    held = HeldRunner()
    first = await jobs.submit(manager, held, kind_name="apply", cluster="lab", user="a")
    try:
        with pytest.raises(JobConflict, match=rf"job #{first.id} \(apply, queued\) is already"):
            await jobs.submit(manager, held, kind_name="apply", cluster="lab", user="b")
        assert held.submitted == [first.id], "the refused job never reached the runner"
        plan = await jobs.submit(manager, held, kind_name="plan", cluster="lab", user="b")
        assert plan.state is JobState.QUEUED, "read-only jobs are not blocked"
    finally:
        for job_id in held.submitted:
            await jobs.request_cancel(manager, job_id)


async def test_cancelled_queued_job_never_runs(manager: Manager) -> None:
    held = HeldRunner()
    job = await jobs.submit(manager, held, kind_name="apply", cluster="lab", user="a")
    cancelled = await jobs.request_cancel(manager, job.id)
    assert cancelled.state is JobState.CANCELLED
    assert await execute(manager, KINDS, job.id) is None, "a cancelled job cannot be claimed"


async def test_delivered_twice_runs_once(manager: Manager) -> None:
    held = HeldRunner()
    job = await jobs.submit(manager, held, kind_name="plan", cluster="lab", user="a")
    first, second = await execute(manager, KINDS, job.id), await execute(manager, KINDS, job.id)
    assert first is JobState.SUCCEEDED and second is None


async def test_running_jobs_of_a_stopped_manager_show_interrupted(manager: Manager) -> None:
    held = HeldRunner()
    job = await store.create(
        manager, kind="apply", cluster="lab", mutating=True, user="a", params={}, runner="embedded"
    )
    assert await store.claim(manager, job.id)
    runner = await EmbeddedRunner.start(manager, KINDS)  # a new manager process starting up
    await runner.close()
    found = await jobs.get(manager, job.id)
    assert found.state is JobState.INTERRUPTED and found.error
    assert "run it again" in found.error
    events = await jobs.events_after(manager, job.id)
    assert events[-1].kind == "interrupted"
    again = await jobs.submit(manager, held, kind_name="apply", cluster="lab", user="a")
    assert again.state is JobState.QUEUED, "the cluster is free again"
    await jobs.request_cancel(manager, again.id)
