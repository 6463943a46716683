"""Job kinds of LDAP replication: plan, apply, status, compare, reinit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.auth.roles import UserRole
from clustermgr.components.ldap import apply as service
from clustermgr.components.ldap import repair, status
from clustermgr.components.ldap.compare import Comparison
from clustermgr.inventory.schemas import Hostname
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


class ReinitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: Hostname = Field(description="The identity node whose directory is replaced.")
    source: Hostname = Field(description="The healthy peer whose directory it receives.")
    confirm: bool = Field(
        default=False,
        description="True: whoever started it saw what is lost (changes on node not on source).",
    )


async def _replicate(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _status(ctx: JobContext[NoParams]) -> status.LdapStatus:
    return await status.status(ctx.manager, ctx.cluster)


async def _compare(ctx: JobContext[NoParams]) -> Comparison:
    return await repair.compare(ctx.manager, ctx.cluster)


async def _reinit(ctx: JobContext[ReinitParams]) -> ApplyReport:
    confirmed = ctx.params.confirm
    return await repair.reinit(
        ctx.manager,
        ctx.cluster,
        ctx.params.node,
        ctx.params.source,
        approve=lambda _: confirmed,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


PLAN, APPLY = plan_and_apply("ldap-plan", "ldap-apply", "LDAP replication", _replicate, NoParams)
STATUS = JobKind(
    "ldap-status",
    "LDAP replication status",
    False,
    _status,
    NoParams,
    report_template="ldap/job_status.html",
)
COMPARE = JobKind(
    "ldap-compare",
    "compare LDAP data",
    False,
    _compare,
    NoParams,
    report_template="ldap/job_comparison.html",
)
REINIT = JobKind(
    "ldap-reinit",
    "re-initialise an LDAP node",
    True,
    _reinit,
    ReinitParams,
    role=UserRole.ADMIN,
)
