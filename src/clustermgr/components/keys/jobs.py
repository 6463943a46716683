"""Job kinds of the signing keys: the rotation's plan, the rotation, and the status."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.keys.rotate import RotateReport, rotate
from clustermgr.components.keys.status import KeysStatus, status
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams

ROTATE_KIND = "keys-rotate"
PLAN_KIND = "keys-rotate-plan"


class RotateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wait: bool = Field(
        default=True,
        description="Wait until the old keys may go (the token lifetime after the new key "
        "signs); false: end there and say when a run can finish.",
    )
    restart: bool = Field(
        default=False,
        description="Drop a rotation in progress and start a new one (its new key stays "
        "in the keystore until a rotation removes it).",
    )


async def _rotate(ctx: JobContext[RotateParams], dry_run: bool) -> RotateReport:
    return await rotate(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
        wait=ctx.params.wait,
        restart=ctx.params.restart,
    )


async def _plan(ctx: JobContext[RotateParams]) -> RotateReport:
    return await _rotate(ctx, True)


async def _run(ctx: JobContext[RotateParams]) -> RotateReport:
    return await _rotate(ctx, False)


async def _status(ctx: JobContext[NoParams]) -> KeysStatus:
    return await status(ctx.manager, ctx.cluster)


PLAN = JobKind(
    PLAN_KIND,
    "plan a signing key rotation",
    False,
    _plan,
    RotateParams,
    report_template="keys/job_rotate.html",
)
ROTATE = JobKind(
    ROTATE_KIND,
    "rotate the signing keys",
    True,
    _run,
    RotateParams,
    report_template="keys/job_rotate.html",
)
STATUS = JobKind(
    "keys-status",
    "signing keys status",
    False,
    _status,
    NoParams,
    report_template="keys/job_status.html",
)
