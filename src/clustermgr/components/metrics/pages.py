"""The monitoring's pages: a cluster's overview and a page per server.

The server renders each page's skeleton, a block per chart saying what it plots;
the GUI's chart script reads the series from the API (the page's session is
enough for its reads) and draws them over the window the person picks.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.metrics.charts import SERVICE_RATES, host_charts, host_summary
from clustermgr.core.access import get_cluster
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ClusterView
from clustermgr.web.deps import WebDep
from clustermgr.web.pages.common import render

router = APIRouter()


def _context(cluster: ClusterView) -> dict[str, Any]:
    return {"cluster": cluster, "source": f"/api/v1/clusters/{cluster.name}/metrics"}


@router.get("/clusters/{name}/metrics", response_class=HTMLResponse)
async def overview(request: Request, web: WebDep, name: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    context = _context(cluster) | {
        "servers": [(s, host_summary(s.hostname)) for s in cluster.servers],
        "services": SERVICE_RATES,
    }
    return render(web, request, "metrics/overview.html", context)


@router.get("/clusters/{name}/metrics/{host}", response_class=HTMLResponse)
async def server(request: Request, web: WebDep, name: str, host: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    found = next((s for s in cluster.servers if s.hostname == host), None)
    if found is None:
        raise NotFound(f"no server {host!r} in cluster {name!r}")
    context = _context(cluster) | {
        "server": found,
        "charts": host_charts(found.hostname, found.role),
    }
    return render(web, request, "metrics/server.html", context)
