"""The dashboard: every cluster's health per watched component (its latest state, last
check and open alerts), its servers with their latest preflight verdict, and the latest
jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.contract import Component
from clustermgr.core.manager import Manager
from clustermgr.jobs import service as jobs
from clustermgr.monitor import read
from clustermgr.monitor.alerts import Severity
from clustermgr.services import servers
from clustermgr.web.api.monitoring import has_history
from clustermgr.web.deps import WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.clusters import HISTORY
from clustermgr.web.pages.common import render


@dataclass(frozen=True)
class HealthRow:
    """One watched component of one cluster, as the dashboard shows it."""

    component: Component
    set_up: bool
    checked_at: datetime | None
    #: Open alerts per severity.
    open_alerts: dict[str, int]

    @property
    def state(self) -> str:
        """``not set up``, ``not checked yet``, or the worst open severity, else ``ok``."""
        if not self.set_up:
            return "not set up"
        if self.checked_at is None:
            return "not checked yet"
        for severity in Severity:
            if self.open_alerts.get(severity.value):
                return severity.value
        return "ok"

    @property
    def health(self) -> str:
        """The state's colour class: ``ok``, ``warning``, ``critical`` or ``unknown``."""
        state = self.state
        return state if state in ("ok", *(s.value for s in Severity)) else "unknown"

    @property
    def open_total(self) -> int:
        return sum(self.open_alerts.values())


async def health_rows(
    manager: Manager, cluster: str, watched: Sequence[Component], overview: read.Overview
) -> list[HealthRow]:
    rows = []
    for c in watched:
        set_up = await c.set_up(manager, cluster) if c.set_up is not None else True
        rows.append(
            HealthRow(
                c,
                set_up,
                overview.checked_at(cluster, c.name),
                overview.open_alerts(cluster, c.name),
            )
        )
    return rows


def router(components: Sequence[Component]) -> APIRouter:
    """``/``, with a health row for each of ``components`` the watcher checks."""
    watched = [c for c in components if has_history(c)]
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request, web: WebDep) -> Response:
        clusters = await servers.list_clusters(web.manager)
        recent = await jobs.listing(web.manager, limit=10)
        overview = await read.overview(web.manager)
        verdicts = {}
        health = {}
        for cluster in clusters:
            history = await jobs.listing(web.manager, cluster=cluster.name, limit=HISTORY)
            verdicts[cluster.name] = present.preflight_verdicts(
                present.latest_finished(history, "preflight")
            )
            health[cluster.name] = await health_rows(web.manager, cluster.name, watched, overview)
        context = {"clusters": clusters, "jobs": recent, "verdicts": verdicts, "health": health}
        return render(web, request, "dashboard.html", context)

    return routes
