"""The logs stage: plan and apply it on every server of a cluster, for every front end.

Facts are read from every member at once (on identity nodes slapd's log level),
:mod:`plan` turns them into steps, the executor applies them.  An apply that
succeeded marks the cluster's logs as collected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.logs import plan as logs_plan
from clustermgr.components.logs import slapdlog
from clustermgr.components.logs.program import follower_source
from clustermgr.components.logs.settingsstore import mark_applied, wanted_slapd_log_level
from clustermgr.core.access import HostAccess, get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.facts.base import gather
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.topology import Role


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply the logs stage of a cluster.

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="logs.apply", target=cluster_name, dry_run=dry_run
    )


async def host_facts(access: HostAccess, member: logs_plan.Member) -> logs_plan.HostFacts:
    if member.role is not Role.IDENTITY:
        await access.connection(member.hostname)  # reachable: it gets the follower
        return logs_plan.HostFacts()
    conn = await access.connection(member.hostname)
    level = await gather(conn, slapdlog.LOG_LEVEL)
    return logs_plan.HostFacts(level)


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    view = await get_cluster(manager, cluster_name)
    members = [logs_plan.Member(s.hostname, s.role) for s in view.nodes()]
    level = await wanted_slapd_log_level(manager, cluster_name)
    async with await open_access(manager, cluster_name) as access:
        found = await asyncio.gather(
            *(host_facts(access, m) for m in members), return_exceptions=True
        )
        facts: dict[str, logs_plan.HostFacts] = {}
        failed: dict[str, str] = {}
        for member, result in zip(members, found, strict=True):
            if isinstance(result, ClustermgrError):
                emit(Event(EventKind.HOST_FAILED, result.message, host=member.hostname))
                failed[member.hostname] = result.message
            elif isinstance(result, BaseException):
                raise result
            else:
                facts[member.hostname] = result
        whole = logs_plan.plan_logs(
            cluster_name, members, facts, follower=follower_source(), slapd_log_level=level
        )
        executor = Executor(access.connection, emit, cancelled=cancelled)
        report = await executor.apply(whole, dry_run=dry_run)
    for host, reason in failed.items():
        report.results[host] = [
            StepResult(f"{host}:gather-facts", host, "gather facts", Outcome.FAILED, reason)
        ]
    if not dry_run and report.ok:
        await mark_applied(manager, cluster_name)
    return report
