"""A first deploy under a watcher checking every second leaves no alert in the history.

A fresh lab (two identity nodes and a proxy, nothing applied); the watcher runs
throughout while the base preparation, LDAP replication, the cache, the load
balancer and monitoring are applied as jobs, in order, then checks the deployed
cluster a few more times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from clustermgr.components import registry
from clustermgr.components.contract import deploy_stages
from clustermgr.core.manager import Manager
from clustermgr.jobs import service as jobs
from clustermgr.jobs.models import JobState
from clustermgr.jobs.runner import EmbeddedRunner
from clustermgr.jobs.views import JobView
from clustermgr.monitor import store
from clustermgr.monitor.watcher import CycleReport, Watcher
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

KINDS = registry.job_kinds()
#: The first deploy, stage by stage, after the install the lab made.
STAGES = tuple(s.apply.name for s in deploy_stages(registry.COMPONENTS) if s.name != "install")
#: Checks of every component after the deploy before the history is read.
AFTER = 3


@pytest.fixture
async def fresh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("deploy-watch-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=2) as lab:
        yield lab


async def _run(manager: Manager, runner: EmbeddedRunner, kind: str, cluster: str) -> JobView:
    job = await jobs.submit(manager, runner, kind_name=kind, cluster=cluster, user="tester")
    await runner.wait(job.id)
    async for item in jobs.follow(manager, job.id, poll=0.1):
        if isinstance(item, JobView):
            return item
    raise AssertionError(f"job #{job.id} never finished")


async def test_a_first_deploy_leaves_no_alert(fresh: Lab) -> None:
    settings = fresh.settings.model_copy(
        update={"watch_interval": 1.0, "watch_files_interval": 1.0}
    )
    cluster = fresh.config.cluster
    manager = await Manager.open(settings)
    runner = await EmbeddedRunner.start(manager, KINDS)
    watcher = Watcher(manager, registry.watched(manager), kinds=KINDS)
    reports: list[CycleReport] = []
    stop = asyncio.Event()
    watching = asyncio.create_task(watcher.run(stop, reports.extend))
    try:
        done: dict[str, JobView] = {}
        for kind in STAGES:
            job = done[kind] = await _run(manager, runner, kind, cluster)
            assert job.state is JobState.SUCCEEDED, (kind, job.error, job.result)
        ended = time.monotonic()
        deadline = ended + 120
        while True:  # every component checked AFTER times since the deploy ended
            after = [r for r in reports[-60:] if r.paused_by is None and r.watched]
            counts = {p.name: sum(r.component == p.name for r in after) for p in watcher.parts}
            if min(counts.values()) >= AFTER and time.monotonic() - ended > AFTER:
                break
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await watching
        await watcher.close()
        await runner.close()
    try:
        history = await store.alerts(manager, cluster, open_only=False)
        assert [(a.component, a.key, a.message) for a in history] == []
        paused = {(r.component, r.paused_by) for r in reports if r.paused_by is not None}
        # The watcher did meet the deploy's jobs on components it watches.
        assert paused, "no check met a job"
        ids = {j.id: kind for kind, j in done.items()}
        assert {ids[job] for _, job in paused} <= set(STAGES)
        errors = [r.snapshot["error"] for r in reports if "error" in r.snapshot]
        assert errors == []
    finally:
        await manager.close()
