"""A cluster's cache page: the chain per node by health, twemproxy's pool, Redis, repairs.

The live part (``/live``) refreshes itself every watcher interval; the buttons
start cache jobs (plan, status) whose pages show the results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.inventory.schemas import Role
from clustermgr.jobs import service as jobs
from clustermgr.monitor import read
from clustermgr.monitor.cachefindings import COMPONENT
from clustermgr.services import servers
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import cacheview
from clustermgr.web.pages.common import redirect, render, start_job

router = APIRouter()

RECENT_ALERTS = 20
RECENT_JOBS = 10


async def _context(web: WebContext, name: str) -> dict[str, Any]:
    cluster = await servers.get_cluster(web.manager, name)
    members = [s.hostname for s in cluster.servers if s.role is Role.IDENTITY]
    health = await read.component_health(web.manager, name, COMPONENT)
    snapshot = health.snapshot.data if health.snapshot else None
    alerts = await read.cluster_alerts(web.manager, name, open_only=False, limit=100)
    return {
        "cluster": cluster,
        "snapshot": snapshot,
        "checked_at": health.snapshot.at if health.snapshot else None,
        "open_alerts": health.open_alerts,
        "alerts": [a for a in alerts if a.component == COMPONENT][:RECENT_ALERTS],
        "chain": cacheview.chain(members, snapshot),
        "interval": web.manager.settings.watch_interval,
        "watching": web.manager.settings.watch_enabled,
    }


@router.get("/clusters/{name}/cache", response_class=HTMLResponse)
async def cache_page(request: Request, web: WebDep, name: str) -> Response:
    context = await _context(web, name)
    history = await jobs.listing(web.manager, cluster=name, limit=50)
    context["jobs"] = [j for j in history if j.kind.startswith("cache-")][:RECENT_JOBS]
    return render(web, request, "cache/page.html", context)


@router.get("/clusters/{name}/cache/live", response_class=HTMLResponse)
async def cache_live(request: Request, web: WebDep, name: str) -> Response:
    return render(web, request, "cache/live.html", await _context(web, name))


@router.post("/clusters/{name}/cache/plan")
async def plan(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="cache-plan", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/cache/status")
async def status(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="cache-status", cluster=name)
    return redirect(f"/jobs/{job.id}")
