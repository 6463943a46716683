"""Job kinds of the cluster files: plan, apply and status."""

from __future__ import annotations

from clustermgr.components.files import apply as service
from clustermgr.components.files.status import FilesStatus, status
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams, plan_and_apply
from clustermgr.plan.model import ApplyReport


async def _files(ctx: JobContext[NoParams], dry_run: bool) -> ApplyReport:
    return await service.apply(
        ctx.manager,
        ctx.cluster,
        dry_run=dry_run,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def _status(ctx: JobContext[NoParams]) -> FilesStatus:
    return await status(ctx.manager, ctx.cluster)


PLAN, APPLY = plan_and_apply("files-plan", "files-apply", "the cluster files", _files, NoParams)
STATUS = JobKind(
    "files-status",
    "cluster files status",
    False,
    _status,
    NoParams,
    report_template="files/job_status.html",
)
