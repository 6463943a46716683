"""The rotation schedule: the watcher's part starts a ``keys-rotate`` job when one is due,
and only then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clustermgr.components.keys import keystore
from clustermgr.components.keys.keystore import KEYSTORE
from clustermgr.components.keys.rotation import Phase, Rotation
from clustermgr.components.keys.status import next_due
from clustermgr.components.keys.store import (
    change_settings,
    keys_state,
    save,
    section,
    with_state,
)
from clustermgr.components.keys.watch import SCHEDULER, KeysWatch, _own_kinds
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.jobs import store as jobs
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.services import clusterfiles
from replicationdata import add_cluster


class Recorder:
    name = "embedded"

    def __init__(self) -> None:
        self.kinds: KindCatalog = _own_kinds()
        self.submitted: list[int] = []

    async def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    async def close(self) -> None:
        pass


@pytest.fixture
async def cluster(manager: Manager) -> str:
    name = await add_cluster(manager)
    key = keystore.new_key()
    async with manager.store() as store:
        await clusterfiles.seal(
            store,
            await store.cluster(name),
            {KEYSTORE.path: keystore.text({"signing_kid": key["kid"], "keys": [key]})},
        )
    return name


async def _check(watch: KeysWatch, cluster: str) -> dict[str, object]:
    cycles = [c async for c in watch.check(cluster)]
    assert len(cycles) == 1 and cycles[0].component == "keys"
    return cycles[0].snapshot


async def test_a_due_rotation_is_started_once(manager: Manager, cluster: str) -> None:
    watch = KeysWatch(manager)
    runner = Recorder()
    watch._runner = runner
    assert cluster in await watch.clusters()
    assert (await _check(watch, cluster))["started_job"] is None, "no schedule: nothing"
    await change_settings(manager, cluster, {"rotate_every_days": 30}, actor="admin")
    snapshot = await _check(watch, cluster)
    (job_id,) = runner.submitted
    assert snapshot["started_job"] == job_id
    job = await jobs.get(manager, job_id)
    assert job.kind == "keys-rotate" and job.requested_by == SCHEDULER and job.mutating
    # Started: not started again at the next check.
    assert (await _check(watch, cluster))["started_job"] is None
    assert runner.submitted == [job_id]
    await watch.close()


async def test_when_a_rotation_is_due(manager: Manager, cluster: str) -> None:
    now = utcnow()
    await change_settings(manager, cluster, {"rotate_every_days": 7}, actor="admin")
    async with manager.store() as store:
        found = await store.cluster(cluster)
        save(store, found, with_state(section(found), None, last_rotated=now - timedelta(days=2)))
    state = await keys_state(manager, cluster)
    assert next_due(state, now) == now + timedelta(days=5)
    stopped = Rotation("NEW", ("OLD",), Phase.SIGN, now)
    async with manager.store() as store:
        found = await store.cluster(cluster)
        save(store, found, with_state(section(found), stopped))
    assert next_due(await keys_state(manager, cluster), now) == now, "a stopped one: now"
    await change_settings(manager, cluster, {"rotate_every_days": None}, actor="admin")
    assert next_due(await keys_state(manager, cluster), now) is None
