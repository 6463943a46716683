"""The exporters: plan and apply them on every server of a cluster, for every front end.

Facts are read from every member at once (OS family, init system; on identity
nodes slapd's configuration and built-in backends), :mod:`plan` turns them into
steps, the executor applies them.  The Redis exporter reads the node's Redis with
the cluster's Redis password, which the cache's first apply sealed in the
inventory: an apply before it says so and changes nothing; a plan shows the file
with a stand-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.metrics import monitordb
from clustermgr.components.metrics import plan as metrics_plan
from clustermgr.components.metrics.settingsstore import mark_applied
from clustermgr.core.access import HostAccess, get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.facts.base import gather
from clustermgr.facts.ldap import SLAPD_CONFIG
from clustermgr.facts.os import OS_RELEASE
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.redact import Secret
from clustermgr.topology import REDIS_SECRET, Role

#: Stands for the Redis password in a plan made before the cache's first apply.
NOT_MADE_YET = Secret("made-at-the-cache's-first-apply", label="redis")


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply the exporters of a cluster.

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="metrics.apply", target=cluster_name, dry_run=dry_run
    )


async def redis_password(manager: Manager, cluster_name: str, *, dry_run: bool) -> Secret:
    """The cluster's Redis password; a stand-in for a plan before the cache made it."""
    async with manager.store() as store:
        found = await store.find_cluster_secret(await store.cluster(cluster_name), REDIS_SECRET)
    if found is not None:
        return found
    if dry_run:
        return NOT_MADE_YET
    raise InvalidInput(
        f"cluster {cluster_name!r} has no Redis password yet: the Redis exporter needs it",
        hint=f"apply the cache first (clustermgr cache apply {cluster_name})",
    )


async def host_facts(access: HostAccess, member: metrics_plan.Member) -> metrics_plan.HostFacts:
    conn = await access.connection(member.hostname)
    init = (await access.platform(member.hostname)).init
    family = (await gather(conn, OS_RELEASE)).family
    if member.role is not Role.IDENTITY:
        return metrics_plan.HostFacts(family, init)
    slapd = await gather(conn, SLAPD_CONFIG)
    static = await gather(conn, monitordb.STATIC_BACKENDS)
    return metrics_plan.HostFacts(family, init, slapd, static)


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    view = await get_cluster(manager, cluster_name)
    members = [metrics_plan.Member(s.hostname, s.role) for s in view.nodes()]
    identity = any(m.role is Role.IDENTITY for m in members)
    password = await redis_password(manager, cluster_name, dry_run=dry_run) if identity else None
    async with await open_access(manager, cluster_name) as access:
        found = await asyncio.gather(
            *(host_facts(access, m) for m in members), return_exceptions=True
        )
        facts: dict[str, metrics_plan.HostFacts] = {}
        failed: dict[str, str] = {}
        for member, result in zip(members, found, strict=True):
            if isinstance(result, ClustermgrError):
                emit(Event(EventKind.HOST_FAILED, result.message, host=member.hostname))
                failed[member.hostname] = result.message
            elif isinstance(result, BaseException):
                raise result
            else:
                facts[member.hostname] = result
        whole = metrics_plan.plan_metrics(cluster_name, members, facts, password or NOT_MADE_YET)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        report = await executor.apply(whole, dry_run=dry_run)
    for host, reason in failed.items():
        report.results[host] = [
            StepResult(f"{host}:gather-facts", host, "gather facts", Outcome.FAILED, reason)
        ]
    if not dry_run and report.ok:
        await mark_applied(manager, cluster_name)
    return report
