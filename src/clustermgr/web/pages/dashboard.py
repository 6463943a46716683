"""The dashboard: every cluster's health per watched component (its latest state, last
check and open alerts), its servers with their latest preflight verdict, and the latest
jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from clustermgr.auth.roles import UserRole
from clustermgr.components.contract import Component
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ClusterView
from clustermgr.jobs import service as jobs
from clustermgr.jobs.views import JobSummary
from clustermgr.monitor import read
from clustermgr.monitor.alerts import Severity
from clustermgr.services import servers
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.common import render

#: Jobs in the dashboard's list.
RECENT = 10
#: The dashboard's content, rendered once per change of the database.
BODY = "partials/dashboard_body.html"


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


async def health_table(
    manager: Manager, clusters: Sequence[str], watched: Sequence[Component], overview: read.Overview
) -> dict[str, list[HealthRow]]:
    """Each cluster's health rows: one query per watched component for where it is set
    up, however many clusters."""
    where = {c.name: set(await c.set_up_in(manager)) if c.set_up_in else None for c in watched}

    def set_up(cluster: str, component: str) -> bool:
        clusters = where[component]
        return clusters is None or cluster in clusters

    return {
        cluster: [
            HealthRow(
                c,
                set_up(cluster, c.name),
                overview.checked_at(cluster, c.name),
                overview.open_alerts(cluster, c.name),
            )
            for c in watched
        ]
        for cluster in clusters
    }


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows but the user: the same for every user."""

    clusters: list[ClusterView]
    jobs: list[JobSummary]
    verdicts: dict[str, dict[str, present.HostVerdict]]
    health: dict[str, list[HealthRow]]


async def dashboard_data(manager: Manager, watched: Sequence[Component]) -> DashboardData:
    """A fixed number of queries, however many clusters, servers and jobs."""
    clusters = await servers.list_clusters(manager)
    names = [c.name for c in clusters]
    preflights = await jobs.latest_finished(manager, "preflight", names)
    return DashboardData(
        clusters,
        await jobs.summaries(manager, limit=RECENT),
        {n: present.preflight_verdicts(preflights.get(n)) for n in names},
        await health_table(manager, names, watched, await read.overview(manager)),
    )


async def dashboard_body(web: WebContext, watched: Sequence[Component], admin: bool) -> Markup:
    """The page's content for an admin or anyone else: nothing in it depends on the user
    but the links an admin gets, nor on the moment but the data."""
    data = await web.manager.db.reads.get("dashboard", lambda: dashboard_data(web.manager, watched))
    template = web.templates.get_template(BODY)
    # HTML the template made, every value in it escaped (autoescape is on for .html).
    return Markup(template.render({**vars(data), "can_admin": admin}))  # noqa: S704


def router(components: Sequence[Component]) -> APIRouter:
    """``/``, with a health row for each of ``components`` the watcher checks (a
    component with a page but no part in the watcher, as the install, has none)."""
    watched = [c for c in components if c.watch is not None]
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request, web: WebDep, session: SessionDep) -> Response:
        # Loaded and rendered once per change of the database, whoever asks.
        admin = session.user.role.allows(UserRole.ADMIN)
        body = await web.manager.db.reads.get(
            f"dashboard-body:{'admin' if admin else 'other'}",
            lambda: dashboard_body(web, watched, admin),
        )
        return render(web, request, "dashboard.html", {"body": body})

    return routes
