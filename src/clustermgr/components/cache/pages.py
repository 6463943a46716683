"""A cluster's cache page: the chain per node by health, twemproxy's pool, Redis, its memory.

The live part (``/live``) refreshes itself every watcher interval; the buttons
start cache jobs (plan, status) whose pages show the results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.cache import view as cacheview
from clustermgr.components.cache.findings import COMPONENT
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import watched
from clustermgr.web.pages.common import redirect, render, start_job

router = APIRouter()


async def _context(web: WebContext, name: str) -> dict[str, Any]:
    context = await watched.context(web, name, COMPONENT)
    history = await watched.history(web, name, COMPONENT)
    return context | {
        "chain": cacheview.chain(context["members"], context["snapshot"]),
        "charts": cacheview.charts(context["members"], history),
    }


@router.get("/clusters/{name}/cache", response_class=HTMLResponse)
async def cache_page(request: Request, web: WebDep, name: str) -> Response:
    context = await _context(web, name)
    context["jobs"] = await watched.recent_jobs(web, name, "cache-")
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
