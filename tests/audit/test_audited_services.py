"""Services audit their own changes under the actor they are given: a job's requester,
the CLI's user, a web user; a dry run leaves no entry, a change (or an attempt at one)
exactly one."""

from __future__ import annotations

import pytest

from clustermgr.audit import service as audit
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.errors import AlreadyExists, InvalidInput, JobConflict, NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.jobs import service as jobs
from clustermgr.jobs import store as job_store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.models import JobState
from clustermgr.redact import Secret
from clustermgr.services import clusters, servers
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


class HeldRunner:
    """A runner that keeps every job queued."""

    name = "held"

    def __init__(self) -> None:
        self.kinds = KindCatalog(job_kinds())

    async def submit(self, job_id: int) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_starting_and_cancelling_a_job_is_audited_by_the_job_service(
    manager: Manager, cluster: str
) -> None:
    runner = HeldRunner()
    job = await jobs.submit(manager, runner, kind_name="lb-apply", cluster=cluster, user="alice")
    with pytest.raises(JobConflict):
        await jobs.submit(manager, runner, kind_name="lb-apply", cluster=cluster, user="bob")
    with pytest.raises(InvalidInput):
        await jobs.submit(manager, runner, kind_name="destroy", cluster=cluster, user="bob")
    await jobs.request_cancel(manager, job.id, actor="carol")
    with pytest.raises(NotFound):
        await jobs.request_cancel(manager, 999999, actor="carol")
    assert await trail(manager) == [
        ("alice", "job.start", cluster, "ok"),
        ("bob", "job.start", cluster, "refused"),
        ("bob", "job.start", cluster, "failed"),
        ("carol", "job.cancel", f"job #{job.id}", "ok"),
        ("carol", "job.cancel", "job #999999", "failed"),
    ]
    entries = list(reversed(await audit.entries(manager)))
    assert entries[0].detail == {"kind": "lb-apply", "job": job.id}
    assert entries[1].detail == {"kind": "lb-apply", "error": "job_conflict"}
    assert entries[3].detail == {
        "job": job.id,
        "kind": "lb-apply",
        "cluster": cluster,
        "state": "cancelled",
    }


async def test_changing_and_removing_a_server_is_audited_by_the_server_service(
    manager: Manager, cluster: str
) -> None:
    async with manager.store() as store:
        await store.add_server(ServerSpec(cluster, "idp2.x", "192.0.2.2", Role.IDENTITY), None, [])

    async def move_idp1(address: str) -> None:
        await servers.update_server(
            manager,
            cluster,
            "idp1.x",
            address=address,
            ssh_port=22,
            ssh_user="root",
            role="identity",
            actor="cli:bob",
        )

    await move_idp1("192.0.2.9")
    with pytest.raises(AlreadyExists):
        await move_idp1("192.0.2.2")  # idp2's address
    await servers.remove_server(manager, cluster, "idp2.x", actor="cli:bob")
    with pytest.raises(NotFound):
        await servers.remove_server(manager, cluster, "idp2.x", actor="cli:bob")
    assert await trail(manager) == [
        ("cli:bob", "server.update", f"{cluster}/idp1.x", "ok"),
        ("cli:bob", "server.update", f"{cluster}/idp1.x", "refused"),
        ("cli:bob", "server.remove", f"{cluster}/idp2.x", "ok"),
        ("cli:bob", "server.remove", f"{cluster}/idp2.x", "failed"),
    ]
    updated = (await audit.entries(manager))[-1]
    assert updated.detail == {"address": {"from": "192.0.2.1", "to": "192.0.2.9"}}


async def test_adding_a_server_is_audited_without_its_key(manager: Manager, cluster: str) -> None:
    spec = ServerSpec.parse(
        cluster=cluster, hostname="idp1.x", address="192.0.2.1", role="identity"
    )
    secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot really a key\n"
    key = servers.SshKeyInput(
        Secret(secret, label="ssh-key"), Secret("correct horse", label="passphrase")
    )
    with pytest.raises(InvalidInput):
        await servers.add_server(manager, spec, key, actor="alice")
    with pytest.raises(AlreadyExists):
        await servers.add_server(manager, spec, None, actor="alice")
    assert await trail(manager) == [
        ("alice", "server.add", f"{cluster}/idp1.x", "failed"),
        ("alice", "server.add", f"{cluster}/idp1.x", "refused"),
    ]
    for entry in await audit.entries(manager):
        assert {
            "hostname": "idp1.x",
            "role": "identity",
            "address": "192.0.2.1",
            "port": 22,
        }.items() <= entry.detail.items()
        assert "not really a key" not in str(entry.detail)
        assert "correct horse" not in str(entry.detail)
