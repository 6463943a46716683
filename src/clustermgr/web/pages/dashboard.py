"""The dashboard: every cluster, its servers with their latest preflight verdict,
and the latest jobs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.jobs import service as jobs
from clustermgr.services import servers
from clustermgr.web.deps import WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.clusters import HISTORY
from clustermgr.web.pages.common import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, web: WebDep) -> Response:
    clusters = await servers.list_clusters(web.manager)
    recent = await jobs.listing(web.manager, limit=10)
    verdicts = {}
    for cluster in clusters:
        history = await jobs.listing(web.manager, cluster=cluster.name, limit=HISTORY)
        verdicts[cluster.name] = present.preflight_verdicts(
            present.latest_finished(history, "preflight")
        )
    context = {"clusters": clusters, "jobs": recent, "verdicts": verdicts}
    return render(web, request, "dashboard.html", context)
