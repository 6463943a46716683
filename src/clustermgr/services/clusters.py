"""Clusters: create, change their settings, and the base preparation plan of their members.

``plan_and_apply`` is the one path for ``cluster plan`` (a dry run: the steps,
their diffs, nothing changed) and ``cluster apply``: gather facts from every
member in parallel, plan (pure), then run the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.components.base.plan import BaseFacts, plan_base
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, RemoteFileNotFound
from clustermgr.facts.base import gather
from clustermgr.facts.os import OS_RELEASE
from clustermgr.facts.packages import installed_packages_fact
from clustermgr.inventory.schemas import (
    ClusterSettings,
    ClusterSettingsUpdate,
    ClusterView,
    validate_cluster_name,
)
from clustermgr.inventory.store import cluster_view
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.remote.pool import run_on_hosts
from clustermgr.words import count


async def create_cluster(
    manager: Manager, name: str, settings: ClusterSettings | None = None
) -> ClusterView:
    async with manager.store() as store:
        cluster = await store.create_cluster(
            validate_cluster_name(name), settings or ClusterSettings()
        )
        return cluster_view(cluster)


async def change_settings(
    manager: Manager,
    name: str,
    update: ClusterSettingsUpdate | Mapping[str, Any],
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> ClusterView:
    """Change the cluster's own settings (its public hostname); for admins.

    Writes one audit entry under ``actor`` (a refused change too); InvalidInput
    names the field that is wrong, and nothing is changed then.
    """
    raw = update.model_dump(exclude_unset=True) if isinstance(update, BaseModel) else dict(update)
    async with audit.audited(
        manager, actor=actor, action="cluster.settings", target=name, detail={"changes": raw}
    ):
        require(as_role, UserRole.ADMIN, "changing the cluster's settings")
        change = ClusterSettingsUpdate.parse(raw)
        async with manager.store() as store:
            cluster = await store.cluster(name)
            store.set_settings(cluster, change.model_dump(exclude_unset=True))
            return cluster_view(cluster)


async def remove_cluster(manager: Manager, name: str) -> None:
    """Forget a cluster and its servers (nothing is changed on the servers)."""
    async with manager.store() as store:
        await store.remove_cluster(name)


async def base_facts(access: HostAccess, hostname: str, hosts_path: str) -> BaseFacts:
    conn = await access.connection(hostname)
    os_info = await gather(conn, OS_RELEASE)
    installed = await gather(conn, installed_packages_fact(os_info.family))
    try:
        hosts = (await conn.get(hosts_path)).decode(errors="replace")
    except RemoteFileNotFound:
        hosts = ""
    return BaseFacts(family=os_info.family, installed=installed, hosts_file=hosts)


async def prepare(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan the base preparation and apply it (or only show it, with ``dry_run``).

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="base.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan the base preparation and apply it (or only show it, with ``dry_run``)."""
    async with manager.store() as store:
        cluster = cluster_view(await store.cluster(cluster_name))
    access = await open_access(manager, cluster_name)
    async with access:
        # Its servers by state: a node that leaves is neither prepared nor contacted.
        hostnames = cluster.hostnames()
        servers = count(len(hostnames), "server")
        emit(Event(EventKind.PLAN_STARTED, f"gathering facts from {servers}"))
        gathered = await run_on_hosts(
            hostnames,
            lambda h: base_facts(access, h, cluster.settings.hosts_file),
            limit=manager.settings.parallel_hosts,
        )
        for host, exc in gathered.failed.items():
            emit(Event(EventKind.HOST_FAILED, _describe(exc), host=host))
        plan = plan_base(cluster, gathered.succeeded)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        report = await executor.apply(plan, dry_run=dry_run)
    for host, exc in gathered.failed.items():
        report.results[host] = [
            StepResult(f"{host}:gather-facts", host, "gather facts", Outcome.FAILED, _describe(exc))
        ]
    return report


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else f"{type(exc).__name__}: {exc}"
