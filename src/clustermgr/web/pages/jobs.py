"""Job pages: the history, one job (live log over Server-Sent Events, its outcome),
and the buttons that cancel it, run it again, or apply a finished plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from clustermgr.errors import InvalidInput
from clustermgr.jobs import service as jobs
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.views import EventView, JobView
from clustermgr.web import sse
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.common import PAGE_SIZE, actor, redirect, render, role, start_job

router = APIRouter()

#: Events read per query when a page shows a whole log.
EVENT_BATCH = 1000


async def _all_events(web: WebDep, job_id: int) -> list[EventView]:
    events: list[EventView] = []
    while True:
        batch = await jobs.events_after(web.manager, job_id, events[-1].seq if events else 0)
        events.extend(batch)
        if len(batch) < EVENT_BATCH:
            return events


def _summary(job: JobView, kinds: KindCatalog) -> dict[str, Any]:
    report = present.report_view(job.result)
    kind = kinds.find(job.kind)
    return {
        "job": job,
        "report": report,
        "report_template": kind.report_template if kind is not None else None,
        "can_apply": present.can_apply(job, report, kinds),
        "applies_plans": present.applied_by(job, kinds) is not None and job.finished,
    }


@router.get("/jobs", response_class=HTMLResponse)
async def job_list(request: Request, web: WebDep, before: int | None = None) -> Response:
    page = await jobs.summaries(web.manager, limit=PAGE_SIZE, before_id=before)
    older = page[-1].id if len(page) == PAGE_SIZE else None
    context = {"jobs": page, "older": older, "paged": before is not None}
    return render(web, request, "jobs/list.html", context)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, web: WebDep, job_id: int) -> Response:
    job = await jobs.get(web.manager, job_id)
    events = await _all_events(web, job_id)
    context = {
        **_summary(job, web.runner.kinds),
        "events": events,
        "last_seq": events[-1].seq if events else 0,
        "progress": present.progress(events),
        # The servers it worked on, in the order it first named them.
        "job_hosts": list(dict.fromkeys(e.host for e in events if e.host)),
    }
    return render(web, request, "jobs/detail.html", context)


@router.get("/jobs/{job_id}/summary", response_class=HTMLResponse)
async def job_summary(request: Request, web: WebDep, job_id: int) -> Response:
    """The state, buttons and outcome of a job: what the page swaps in when it ends."""
    job = await jobs.get(web.manager, job_id)
    return render(web, request, "jobs/summary.html", _summary(job, web.runner.kinds))


@router.get("/jobs/{job_id}/events")
async def job_events(
    request: Request, web: WebDep, session: SessionDep, job_id: int, after: int | None = None
) -> Response:
    stream = await sse.job_stream(
        web.manager, job_id, user=actor(session), after=sse.resume_after(request, after)
    )
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=dict(sse.HEADERS))


@router.post("/jobs/{job_id}/cancel")
async def cancel(web: WebDep, session: SessionDep, job_id: int) -> Response:
    job = await jobs.request_cancel(
        web.manager, job_id, actor=actor(session), as_role=role(session)
    )
    return redirect(f"/jobs/{job.id}?done=cancel-requested")


@router.post("/jobs/{job_id}/rerun")
async def rerun(web: WebDep, session: SessionDep, job_id: int) -> Response:
    old = await jobs.get(web.manager, job_id)
    if not old.finished:
        raise InvalidInput(f"job #{job_id} is still {old.state.value}", hint="wait for it to end")
    job = await start_job(
        web, session, kind=old.kind, cluster=old.cluster, params={**old.params, "rerun_of": old.id}
    )
    return redirect(f"/jobs/{job.id}")


@router.post("/jobs/{job_id}/apply")
async def apply(
    web: WebDep, session: SessionDep, job_id: int, confirm: Annotated[str, Form()] = ""
) -> Response:
    """Start the apply of a finished plan, once the person confirmed it.  The apply
    carries the plan's digest: it changes nothing if a fresh plan differs."""
    plan = await jobs.get(web.manager, job_id)
    report = present.report_view(plan.result)
    if not present.can_apply(plan, report, web.runner.kinds):
        raise InvalidInput(
            f"job #{job_id} is not a finished, successful plan with changes to apply",
            hint="start a new plan from the cluster's page",
        )
    if confirm != "yes":
        raise InvalidInput(
            "the changes were not confirmed", hint="tick the confirmation box, then apply"
        )
    kind = present.applied_by(plan, web.runner.kinds)
    assert kind is not None and report is not None  # can_apply said so
    job = await start_job(
        web,
        session,
        kind=kind,
        cluster=plan.cluster,
        params={"plan_job": plan.id, "plan_digest": report.digest},
    )
    return redirect(f"/jobs/{job.id}")
