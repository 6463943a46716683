"""A cluster's page: its servers with their latest preflight verdict, its jobs, and
the buttons that start a check or a plan."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.core.access import get_cluster
from clustermgr.jobs import service as jobs
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.common import redirect, render, start_job

router = APIRouter()

#: How far back the page looks for the latest preflight job.
HISTORY = 50
RECENT = 10


@router.get("/clusters/{name}", response_class=HTMLResponse)
async def cluster_page(request: Request, web: WebDep, name: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    history = await jobs.listing(web.manager, cluster=name, limit=HISTORY)
    preflight = present.latest_finished(history, "preflight")
    context = {
        "cluster": cluster,
        "jobs": history[:RECENT],
        "preflight": preflight,
        "verdicts": present.preflight_verdicts(preflight),
        "active": [j for j in history if not j.finished],
    }
    return render(web, request, "clusters/detail.html", context)


@router.post("/clusters/{name}/check")
async def check(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="preflight", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/plan")
async def plan(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="plan", cluster=name)
    return redirect(f"/jobs/{job.id}")
