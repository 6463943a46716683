"""Job kinds of the cache chain: plan, apply, status (params: ``provider``, REDIS by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clustermgr.components.cache.model import Provider
from clustermgr.jobs import kinds
from clustermgr.services import cache, cachestatus

if TYPE_CHECKING:
    from clustermgr.jobs.kinds import JobContext, JobKind


def _provider(ctx: JobContext) -> Provider:
    value = ctx.params.get("provider")
    return cache.parse_provider(value) if isinstance(value, str) else Provider.REDIS


async def _configure(ctx: JobContext, *, dry_run: bool) -> dict[str, Any]:
    report = await cache.configure(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        provider=_provider(ctx),
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )
    return report.as_dict()


async def _plan(ctx: JobContext) -> dict[str, Any]:
    return await _configure(ctx, dry_run=True)


async def _apply(ctx: JobContext) -> dict[str, Any]:
    return await _configure(ctx, dry_run=False)


async def _status(ctx: JobContext) -> dict[str, Any]:
    return (await cachestatus.status(ctx.manager, ctx.cluster)).as_dict()


def cache_kinds() -> tuple[JobKind, ...]:
    job = kinds.JobKind
    return (
        job("cache-plan", "plan the cache", mutating=False, run=_plan, applied_by="cache-apply"),
        job("cache-apply", "apply the cache", mutating=True, run=_apply),
        job("cache-status", "cache status", mutating=False, run=_status),
    )
