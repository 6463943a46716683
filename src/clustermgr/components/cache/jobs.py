"""Job kinds of the cache chain: plan, apply (params: ``provider``) and status."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.cache import apply as service
from clustermgr.components.cache import status
from clustermgr.components.cache.model import Provider
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


class CacheParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Provider = Field(
        default=Provider.REDIS,
        description="Where the identity servers keep sessions: REDIS (the chain) or "
        "NATIVE_PERSISTENCE (back to LDAP).",
    )


async def _configure(ctx: JobContext[CacheParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        provider=ctx.params.provider,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _status(ctx: JobContext[NoParams]) -> status.CacheStatus:
    return await status.status(ctx.manager, ctx.cluster)


PLAN, APPLY = plan_and_apply("cache-plan", "cache-apply", "the cache", _configure, CacheParams)
STATUS = JobKind(
    "cache-status",
    "cache status",
    False,
    _status,
    NoParams,
    report_template="cache/job_status.html",
)
