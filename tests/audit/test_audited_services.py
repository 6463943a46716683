"""Services audit their own changes under the actor they are given: a job's requester,
the CLI's user, a web user; a dry run leaves no entry, a change exactly one."""

from __future__ import annotations

import pytest

from clustermgr.audit import service as audit
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.jobs import store as job_store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.models import JobState
from clustermgr.services import clusters
from clustermgr.topology import Role


async def trail(manager: Manager) -> list[tuple[str, str, str, str]]:
    return [(e.actor, e.action, e.target, e.result) for e in reversed(await audit.entries(manager))]


@pytest.fixture
async def cluster(manager: Manager) -> str:
    """A cluster with one identity server and no proxy: the balancer refuses to plan it."""
    await clusters.create_cluster(manager, "c")
    async with manager.store() as store:
        await store.add_server(ServerSpec("c", "idp1.x", "192.0.2.1", Role.IDENTITY), None, [])
    return "c"


async def run_job(manager: Manager, kind: str, cluster: str, user: str) -> JobState | None:
    catalog = KindCatalog(job_kinds())
    job = await job_store.create(
        manager,
        kind=kind,
        cluster=cluster,
        mutating=catalog.get(kind).mutating,
        user=user,
        params={},
        runner="test",
    )
    return await execute(manager, catalog, job.id)


async def test_a_job_apply_is_audited_once_under_its_requester(
    manager: Manager, cluster: str
) -> None:
    assert await run_job(manager, "lb-plan", cluster, "alice") is JobState.FAILED
    assert await trail(manager) == [], "a plan is not audited"
    assert await run_job(manager, "lb-apply", cluster, "alice") is JobState.FAILED
    assert await trail(manager) == [("alice", "lb.apply", cluster, "failed")]
    (entry,) = await audit.entries(manager)
    assert entry.detail == {"error": "invalid_input"}


async def test_a_settings_change_is_validated_saved_and_audited(
    manager: Manager, cluster: str
) -> None:
    with pytest.raises(InvalidInput, match="is not an absolute path"):
        await lb_settings.change(
            manager,
            cluster,
            {"certificate": "imported", "cert_file": "/etc/../shadow", "key_file": "/k"},
            actor="cli:bob",
        )
    with pytest.raises(InvalidInput, match="needs both cert_file and key_file"):
        await lb_settings.change(manager, cluster, {"certificate": "imported"}, actor="cli:bob")
    changed = await lb_settings.change(
        manager, cluster, {"locations": {"/casa": "backend"}}, actor="cli:bob"
    )
    assert changed.locations["/casa"] == "backend" and changed.locations["/idp"] == "backend_id"
    assert (await lb_settings.lb_settings(manager, cluster)).locations == changed.locations
    assert await trail(manager) == [
        ("cli:bob", "lb.settings", cluster, "failed"),
        ("cli:bob", "lb.settings", cluster, "failed"),
        ("cli:bob", "lb.settings", cluster, "ok"),
    ]
