"""A cluster's alerts page: the open alerts and the history of every episode, filtered by
component, host and severity (GET parameters, so a filtered view is a link)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.contract import Component
from clustermgr.core.access import get_cluster
from clustermgr.errors import InvalidInput
from clustermgr.monitor import read
from clustermgr.web.api.monitoring import has_history
from clustermgr.web.deps import WebDep
from clustermgr.web.pages.common import PAGE_SIZE, parse_int, render

#: Most open alerts the page lists (the watcher keeps at most one per problem).
MAX_OPEN = 200


def router(components: Sequence[Component]) -> APIRouter:
    """``/clusters/{name}/alerts``, its component filter offering ``components``' watched ones."""
    watched = [c for c in components if has_history(c)]
    routes = APIRouter()

    @routes.get("/clusters/{name}/alerts", response_class=HTMLResponse)
    async def alerts_page(
        request: Request,
        web: WebDep,
        name: str,
        component: str = "",
        host: str = "",
        severity: str = "",
        before: str = "",
    ) -> Response:
        cluster = await get_cluster(web.manager, name)
        chosen = {"component": component, "host": host, "severity": severity}
        context = {
            "cluster": cluster,
            "watched": watched,
            "severities": read.SEVERITIES,
            "chosen": {k: v.strip() for k, v in chosen.items()},
        }
        try:
            where = read.alert_filter(cluster, [c.name for c in watched], **chosen)
            before_id = parse_int(before, "page") if before.strip() else None
        except InvalidInput as exc:
            return render(web, request, "alerts.html", {**context, "error": exc}, status=400)
        opened = await read.cluster_alerts(
            web.manager, name, open_only=True, limit=MAX_OPEN, where=where
        )
        history = await read.cluster_alerts(
            web.manager, name, open_only=False, limit=PAGE_SIZE, before_id=before_id, where=where
        )
        context |= {
            "open_alerts": opened,
            "history": history,
            "older": history[-1].id if len(history) == PAGE_SIZE else None,
            "paged": before_id is not None,
            "titles": {c.name: c.title for c in watched},
        }
        return render(web, request, "alerts.html", context)

    return routes
