"""What a job can do: each kind names its work, whether it changes servers, and runs it.

A kind's ``run`` gets a :class:`JobContext` and returns the outcome as data; it
reports progress through ``ctx.emit`` and stops between steps once
``ctx.cancelled()`` is true.  The same code runs in the manager process and in
queue workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from clustermgr.errors import InvalidInput
from clustermgr.jobs import cachejobs, lbkinds
from clustermgr.plan.events import Emit
from clustermgr.services import clusters, ldap, ldap_repair, preflight, servers
from clustermgr.services.context import Manager


@dataclass(frozen=True)
class JobContext:
    manager: Manager
    cluster: str
    params: Mapping[str, Any]
    emit: Emit
    cancelled: Callable[[], bool]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    #: Changes servers: at most one such job per cluster at a time.
    mutating: bool
    run: Callable[[JobContext], Awaitable[dict[str, Any]]]
    #: For a plan: the kind that applies it (offered on the plan's page once it succeeded).
    applied_by: str | None = None


async def _preflight(ctx: JobContext) -> dict[str, Any]:
    hosts = ctx.params.get("hosts") or ()
    async with await servers.open_access(ctx.manager, ctx.cluster, hosts) as access:
        report = await preflight.check_servers(access, list(access.servers.values()), ctx.emit)
    return report.as_dict()


async def _base(ctx: JobContext, *, dry_run: bool) -> dict[str, Any]:
    report = await clusters.prepare(
        ctx.manager, ctx.cluster, dry_run=dry_run, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def _plan(ctx: JobContext) -> dict[str, Any]:
    return await _base(ctx, dry_run=True)


async def _apply(ctx: JobContext) -> dict[str, Any]:
    return await _base(ctx, dry_run=False)


async def _ldap_plan(ctx: JobContext) -> dict[str, Any]:
    report = await ldap.replicate(
        ctx.manager, ctx.cluster, dry_run=True, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def _ldap_apply(ctx: JobContext) -> dict[str, Any]:
    report = await ldap.replicate(
        ctx.manager, ctx.cluster, dry_run=False, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def _ldap_status(ctx: JobContext) -> dict[str, Any]:
    return await ldap.status(ctx.manager, ctx.cluster)


async def _ldap_compare(ctx: JobContext) -> dict[str, Any]:
    return (await ldap_repair.compare(ctx.manager, ctx.cluster)).as_dict()


async def _ldap_reinit(ctx: JobContext) -> dict[str, Any]:
    """params: node, source, and confirm (true: whoever started it saw what is lost)."""
    node, source = ctx.params.get("node"), ctx.params.get("source")
    if not isinstance(node, str) or not isinstance(source, str):
        raise InvalidInput("ldap-reinit needs the params node and source (hostnames)")
    confirmed = ctx.params.get("confirm") is True
    report = await ldap_repair.reinit(
        ctx.manager,
        ctx.cluster,
        node,
        source,
        approve=lambda _: confirmed,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )
    return report.as_dict()


KINDS: Mapping[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("preflight", "preflight check", mutating=False, run=_preflight),
        JobKind("plan", "plan base preparation", mutating=False, run=_plan, applied_by="apply"),
        JobKind("apply", "apply base preparation", mutating=True, run=_apply),
        JobKind(
            "ldap-plan",
            "plan LDAP replication",
            mutating=False,
            run=_ldap_plan,
            applied_by="ldap-apply",
        ),
        JobKind("ldap-apply", "apply LDAP replication", mutating=True, run=_ldap_apply),
        JobKind("ldap-status", "LDAP replication status", mutating=False, run=_ldap_status),
        JobKind("ldap-compare", "compare LDAP data", mutating=False, run=_ldap_compare),
        JobKind("ldap-reinit", "re-initialise an LDAP node", mutating=True, run=_ldap_reinit),
        *cachejobs.cache_kinds(),
        JobKind("lb-plan", "plan the load balancer", False, lbkinds.plan, applied_by="lb-apply"),
        JobKind("lb-apply", "apply the load balancer", mutating=True, run=lbkinds.apply),
        JobKind("lb-status", "load balancer status", mutating=False, run=lbkinds.status),
        JobKind("lb-drain", "drain a node", mutating=True, run=lbkinds.drain),
        JobKind("lb-undrain", "put a node back", mutating=True, run=lbkinds.undrain),
        JobKind(
            "lb-rolling-restart", "rolling restart", mutating=True, run=lbkinds.rolling_restart
        ),
    )
}


def kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown job kind {name!r}", hint=f"one of: {', '.join(KINDS)}"
        ) from None
