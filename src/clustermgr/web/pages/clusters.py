"""A cluster's page: its deploy stages with their states and the next action, its
settings (the public hostname), its servers with their latest preflight verdict, its
jobs, and the buttons that start a check, a stage's plan or the whole deploy's plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.core.access import get_cluster
from clustermgr.errors import NotFound
from clustermgr.jobs import service as jobs
from clustermgr.jobs import stages
from clustermgr.jobs import store as job_store
from clustermgr.jobs.deploy import PLAN_KIND
from clustermgr.jobs.lifecycle import ADD_KIND, REMOVE_KIND
from clustermgr.jobs.views import JobSummary, JobView
from clustermgr.services import clusters
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.common import actor, redirect, render, role, start_job

router = APIRouter()

#: How far back the page looks for the latest preflight job.
HISTORY = 50
RECENT = 10


@router.get("/clusters/{name}", response_class=HTMLResponse)
async def cluster_page(request: Request, web: WebDep, name: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    history = await jobs.summaries(web.manager, cluster=name, limit=HISTORY)
    preflight = (await jobs.latest_finished(web.manager, "preflight", [name])).get(name)
    active = [j for j in history if not j.finished]
    context = {
        "cluster": cluster,
        "board": await stages.load(web.manager, name, web.stages),
        "jobs": history[:RECENT],
        "preflight": preflight,
        "verdicts": present.preflight_verdicts(preflight),
        "active": active,
        "node_jobs": await _node_jobs(web, active),
    }
    return render(web, request, "clusters/detail.html", context)


async def _node_jobs(web: WebDep, active: list[JobSummary]) -> dict[str, JobView]:
    """The node each unfinished ``node-add`` or ``node-remove`` works on, and that job
    (its params are read only when there is one)."""
    found = [j for j in active if j.kind in (ADD_KIND, REMOVE_KIND)]
    views = [await job_store.get(web.manager, j.id) for j in found]
    return {str(view.params.get("node")): view for view in views}


@router.post("/clusters/{name}/settings")
async def settings(
    web: WebDep,
    session: SessionDep,
    name: str,
    public_hostname: Annotated[str, Form()] = "",
) -> Response:
    """The public hostname (empty: the proxy's hostname); for admins."""
    change = {"public_hostname": public_hostname.strip() or None}
    await clusters.change_settings(
        web.manager, name, change, actor=actor(session), as_role=role(session)
    )
    return redirect(f"/clusters/{name}")


@router.post("/clusters/{name}/check")
async def check(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="preflight", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/plan")
async def plan(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="plan", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/stages/{stage}/plan")
async def plan_stage(web: WebDep, session: SessionDep, name: str, stage: str) -> Response:
    """Start the plan of one deploy stage."""
    found = next((s for s in web.stages if s.name == stage), None)
    if found is None:
        raise NotFound(
            f"no deploy stage {stage!r}", hint=f"one of: {', '.join(s.name for s in web.stages)}"
        )
    job = await start_job(web, session, kind=found.plan.name, cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/deploy")
async def plan_deploy(web: WebDep, session: SessionDep, name: str) -> Response:
    """Start the whole deploy's plan: its page offers the deploy."""
    job = await start_job(web, session, kind=PLAN_KIND, cluster=name)
    return redirect(f"/jobs/{job.id}")
