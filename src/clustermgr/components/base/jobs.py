"""Job kinds of the base preparation: preflight (read only), plan and apply."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.core.access import open_access
from clustermgr.inventory.schemas import Hostname
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport
from clustermgr.services import clusters as service
from clustermgr.services import preflight


class PreflightParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: list[Hostname] = Field(
        default_factory=list,
        max_length=200,
        description="Only these servers (default: every server of the cluster).",
    )
    network: bool = Field(
        default=True,
        description="Also try every connection the members need (the reachability matrix).",
    )


async def _preflight(ctx: JobContext[PreflightParams]) -> preflight.PreflightReport:
    async with await open_access(ctx.manager, ctx.cluster, ctx.params.hosts) as access:
        servers = list(access.servers.values())
        return await preflight.check_servers(access, servers, ctx.emit, network=ctx.params.network)


async def _prepare(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.prepare(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


PREFLIGHT = JobKind(
    "preflight",
    "preflight check",
    False,
    _preflight,
    PreflightParams,
    report_template="base/job_preflight.html",
)
PLAN, APPLY = plan_and_apply("plan", "apply", "base preparation", _prepare, NoParams)
