"""Job kinds of the logs stage: plan and apply."""

from __future__ import annotations

from clustermgr.components.logs import apply as service
from clustermgr.jobs.kinds import JobContext, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


async def _deploy(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


PLAN, APPLY = plan_and_apply("logs-plan", "logs-apply", "log collection", _deploy, NoParams)
