"""What the load balancer's job kinds (``lb-*``, listed in :mod:`.kinds`) run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clustermgr.services import lb

if TYPE_CHECKING:
    from clustermgr.jobs.kinds import JobContext


async def _balance(ctx: JobContext, *, dry_run: bool) -> dict[str, Any]:
    report = await lb.balance(
        ctx.manager, ctx.cluster, dry_run=dry_run, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def plan(ctx: JobContext) -> dict[str, Any]:
    return await _balance(ctx, dry_run=True)


async def apply(ctx: JobContext) -> dict[str, Any]:
    return await _balance(ctx, dry_run=False)
