"""Scale-out: jobs queued in a real Redis, run by a `clustermgr worker` process, on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.jobs import service as jobs
from clustermgr.jobs.models import JobState
from clustermgr.jobs.queue import QueueRunner
from clustermgr.jobs.views import JobView
from clustermgr.lab import service as lab_service
from clustermgr.settings import Settings
from labfixture import Lab, eventually, tcp_open
from pgfixture import NO_PG, PG_URL, reset_postgres

pytestmark = pytest.mark.integration


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        import asyncio

        asyncio.run(eventually(lambda: tcp_open("127.0.0.1", port), what="redis answers"))
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def scaled(lab: Lab, redis_url: str, tmp_path: Path) -> AsyncIterator[Manager]:
    """The lab registered in a PostgreSQL inventory, and one worker process."""
    if not PG_URL:
        pytest.skip(NO_PG)
    await reset_postgres(PG_URL)
    settings = Settings(
        data_dir=tmp_path / "manager", database_url=PG_URL, queue_url=redis_url, connect_timeout=5
    )
    await lab_service.register(lab.config, settings)
    env = {
        **os.environ,
        "CLUSTERMGR_DATA_DIR": str(settings.data_dir),
        "CLUSTERMGR_DATABASE_URL": PG_URL,
        "CLUSTERMGR_QUEUE_URL": redis_url,
        "CLUSTERMGR_CONNECT_TIMEOUT": "5",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "clustermgr", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("wb"),
        start_new_session=True,
    )
    manager = await Manager.open(settings)
    try:
        yield manager
    finally:
        await manager.close()
        os.killpg(worker.pid, signal.SIGINT)  # the worker's own process group, by PID
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


async def done(manager: Manager, job_id: int) -> JobView:
    async for item in jobs.follow(manager, job_id, poll=0.1):
        if isinstance(item, JobView):
            return item
    raise AssertionError("no end")


async def test_worker_runs_queued_jobs_from_postgres(scaled: Manager, redis_url: str) -> None:
    runner = QueueRunner(redis_url, job_kinds())
    try:
        check = await jobs.submit(scaled, runner, kind_name="preflight", cluster="lab", user="t")
        plan = await jobs.submit(scaled, runner, kind_name="plan", cluster="lab", user="t")
        await runner.submit(plan.id)  # delivered twice: one run only
        finished = [await done(scaled, check.id), await done(scaled, plan.id)]
    finally:
        await runner.close()
    assert [j.state for j in finished] == [JobState.SUCCEEDED, JobState.SUCCEEDED]
    assert {j.runner for j in finished} == {"worker"}
    events = await jobs.events_after(scaled, plan.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    starts = [e for e in events if e.message.startswith("plan base preparation of cluster lab")]
    assert len(starts) == 1, "ran once"
