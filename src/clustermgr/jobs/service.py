"""Jobs as use cases: start, look up, list, cancel, follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.kinds import split_origin
from clustermgr.jobs.runner import Runner
from clustermgr.jobs.views import EventView, JobView

FOLLOW_POLL = 0.3


async def submit(
    manager: Manager,
    runner: Runner,
    *,
    kind_name: str,
    cluster: str,
    user: str,
    params: dict[str, Any] | None = None,
) -> JobView:
    """Record a job and hand it to the runner. A conflicting mutating job is refused.

    An unknown kind or params its model refuses are InvalidInput; nothing is recorded.
    The job's origin (``plan_job``, ``rerun_of``) is kept with its params, unchecked
    by the kind.
    """
    work = runner.kinds.get(kind_name)
    given, origin = split_origin(params or {})
    valid = {**work.parse(given).model_dump(mode="json", exclude_defaults=True), **origin}
    async with manager.store() as inventory:
        await inventory.cluster(cluster)  # NotFound for an unknown cluster
    job = await store.create(
        manager,
        kind=work.name,
        cluster=cluster,
        mutating=work.mutating,
        user=user,
        params=valid,
        runner=runner.name,
    )
    await runner.submit(job.id)
    return job


async def follow(
    manager: Manager, job_id: int, *, after: int = 0, poll: float = FOLLOW_POLL
) -> AsyncIterator[EventView | JobView]:
    """Every event after ``after`` as it is written, then the finished job."""
    seq = after
    while True:
        job = await store.get(manager, job_id)
        events = await store.events_after(manager, job_id, seq)
        for event in events:
            seq = event.seq
            yield event
        if job.finished and not events:
            yield job
            return
        if not events:
            await asyncio.sleep(poll)


get = store.get
listing = store.listing
events_after = store.events_after
request_cancel = store.request_cancel
