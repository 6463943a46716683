"""What the load balancer's job kinds (``lb-*``, listed in :mod:`.kinds`) run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clustermgr.errors import InvalidInput
from clustermgr.monitor import lbwatch
from clustermgr.services import lb, lb_ops

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


async def status(ctx: JobContext) -> dict[str, Any]:
    return await lbwatch.status(ctx.manager, ctx.cluster)


def _node(ctx: JobContext) -> str:
    node = ctx.params.get("node")
    if not isinstance(node, str):
        raise InvalidInput("this job needs the param node (an identity server's hostname)")
    return node


async def drain(ctx: JobContext) -> dict[str, Any]:
    """params: node."""
    report = await lb_ops.set_rotation(
        ctx.manager, ctx.cluster, _node(ctx), drained=True, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def undrain(ctx: JobContext) -> dict[str, Any]:
    """params: node."""
    report = await lb_ops.set_rotation(
        ctx.manager, ctx.cluster, _node(ctx), drained=False, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()


async def rolling_restart(ctx: JobContext) -> dict[str, Any]:
    report = await lb_ops.rolling_restart(
        ctx.manager, ctx.cluster, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return report.as_dict()
