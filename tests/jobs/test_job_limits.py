"""Active jobs are bounded per user and in all; a start beyond is refused, not queued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from clustermgr.audit import service as audit
from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.errors import LimitReached
from clustermgr.jobs import service as jobs
from clustermgr.jobs import store
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.services import clusters
from clustermgr.settings import Settings

pytestmark = pytest.mark.integration

PER_USER = 3
ACTIVE = 5


class HeldRunner:
    """A runner that records submissions and runs nothing: jobs stay queued."""

    name = "held"

    def __init__(self) -> None:
        self.kinds: KindCatalog = job_kinds()
        self.submitted: list[int] = []

    async def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    async def close(self) -> None:
        return None


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Manager]:
    bounded = settings.model_copy(update={"jobs_per_user": PER_USER, "jobs_active": ACTIVE})
    opened = await Manager.open(bounded)
    await clusters.create_cluster(opened, "c1")
    yield opened
    await opened.close()


async def start(manager: Manager, runner: HeldRunner, user: str) -> int:
    job = await jobs.submit(manager, runner, kind_name="plan", cluster="c1", user=user)
    return job.id


async def test_read_only_jobs_are_bounded_per_user_then_in_all(limited: Manager) -> None:
    held = HeldRunner()
    alice = [await start(limited, held, "alice") for _ in range(PER_USER)]
    with pytest.raises(LimitReached, match=r"alice already has 3 jobs queued or running"):
        await start(limited, held, "alice")
    bob = [await start(limited, held, "bob") for _ in range(ACTIVE - PER_USER)]
    with pytest.raises(LimitReached, match=r"the manager already has 5 jobs"):
        await start(limited, held, "carol")
    assert held.submitted == alice + bob, "a refused job never reaches the runner"
    assert await store.active_count(limited) == ACTIVE

    refused = [e for e in await audit.entries(limited) if e.result != "ok"]
    assert [e.actor for e in refused] == ["carol", "alice"]

    await jobs.request_cancel(limited, alice[0])
    assert await start(limited, held, "carol"), "a finished job frees its place"


async def test_concurrent_starts_do_not_pass_the_limit(limited: Manager) -> None:
    held = HeldRunner()
    outcomes = await asyncio.gather(
        *(start(limited, held, "alice") for _ in range(20)), return_exceptions=True
    )
    started = [o for o in outcomes if isinstance(o, int)]
    assert len(started) == PER_USER
    assert all(isinstance(o, LimitReached) for o in outcomes if not isinstance(o, int))
    assert await store.active_count(limited, user="alice") == PER_USER
