"""Job kinds of the load balancer: plan, apply, status, drain, undrain, rolling restart."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.lb import apply as service
from clustermgr.components.lb import ops
from clustermgr.components.lb.status import LbStatus, status
from clustermgr.inventory.schemas import Hostname
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


class NodeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: Hostname = Field(description="The identity server (hostname).")


async def _balance(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _status(ctx: JobContext[NoParams]) -> LbStatus:
    return await status(ctx.manager, ctx.cluster)


async def _rotation(ctx: JobContext[NodeParams], *, drained: bool) -> ApplyReport:
    return await ops.set_rotation(
        ctx.manager,
        ctx.cluster,
        ctx.params.node,
        drained=drained,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _drain(ctx: JobContext[NodeParams]) -> ApplyReport:
    return await _rotation(ctx, drained=True)


async def _undrain(ctx: JobContext[NodeParams]) -> ApplyReport:
    return await _rotation(ctx, drained=False)


async def _rolling_restart(ctx: JobContext[NoParams]) -> ApplyReport:
    return await ops.rolling_restart(
        ctx.manager, ctx.cluster, actor=ctx.actor, emit=ctx.emit, cancelled=ctx.cancelled
    )


PLAN, APPLY = plan_and_apply("lb-plan", "lb-apply", "the load balancer", _balance, NoParams)
STATUS = JobKind(
    "lb-status",
    "load balancer status",
    False,
    _status,
    NoParams,
    report_template="lb/job_status.html",
)
DRAIN = JobKind("lb-drain", "drain a node", True, _drain, NodeParams)
UNDRAIN = JobKind("lb-undrain", "put a node back", True, _undrain, NodeParams)
ROLLING_RESTART = JobKind("lb-rolling-restart", "rolling restart", True, _rolling_restart, NoParams)
