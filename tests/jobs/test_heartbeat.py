"""A running job renews its heartbeat; the row of one whose process died stops counting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.jobs import store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import JobContext, JobKind, KindCatalog, NoParams
from clustermgr.jobs.models import Job, JobState


@dataclass(frozen=True)
class Done:
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {}


async def test_a_running_job_beats_and_counts_as_changing_its_cluster(
    manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "HEARTBEAT_EVERY", 0.1)
    seen: list[tuple[datetime | None, list[int]]] = []

    async def slow(ctx: JobContext[NoParams]) -> Done:
        for _ in range(3):
            await asyncio.sleep(0.6)
            got = await store.get(ctx.manager, job.id)
            changing = await store.changing(ctx.manager, "a", since=utcnow())
            seen.append((got.started_at, [j.id for j in changing]))
        return Done()

    kinds = KindCatalog([JobKind("slow", "slow", True, slow, NoParams)])
    job = await store.create(
        manager, kind="slow", cluster="a", mutating=True, user="u", params={}, runner="embedded"
    )
    assert await execute(manager, kinds, job.id) is JobState.SUCCEEDED
    assert [ids for _, ids in seen] == [[job.id]] * 3

    async with manager.db.session() as session:
        row = await session.get(Job, job.id)
        assert row is not None and row.heartbeat_at is not None and row.started_at is not None
        assert (row.heartbeat_at - row.started_at).total_seconds() >= 0.4  # renewed
    ended = await store.get(manager, job.id)
    assert ended.finished_at is not None
    # Ended: it counts for a check that started before its end, not after.
    assert [j.id for j in await store.changing(manager, "a", since=ended.finished_at)] == [job.id]
    assert await store.changing(manager, "a", since=utcnow()) == []
