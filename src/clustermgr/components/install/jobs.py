"""Job kinds of the install: plan, apply, and removing Gluu Server from a node."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.auth.roles import UserRole
from clustermgr.components.install import apply as service
from clustermgr.inventory.schemas import Hostname
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


class RemoveParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: Hostname = Field(description="The identity server to remove Gluu Server from.")


async def _install(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _remove(ctx: JobContext[RemoveParams]) -> ApplyReport:
    return await service.remove(
        ctx.manager,
        ctx.cluster,
        ctx.params.node,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


PLAN, APPLY = plan_and_apply(
    "install-plan", "install-apply", "the Gluu Server install", _install, NoParams
)
#: It loses the node's directory and configuration: for admins.
REMOVE = JobKind(
    "install-remove",
    "remove Gluu Server from a node",
    True,
    _remove,
    RemoveParams,
    role=UserRole.ADMIN,
)
