"""What every page of a watched component (replication, cache, load balancer) shares.

Each shows the watcher's latest check of its component with the open alerts, a
live part that refreshes every watcher interval, charts of the component's
samples over the last hour, and the component's latest alerts and jobs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clustermgr.core.access import get_cluster
from clustermgr.jobs import service as jobs
from clustermgr.jobs.views import JobSummary
from clustermgr.monitor import read
from clustermgr.monitor.views import HistoryView
from clustermgr.topology import Role
from clustermgr.web.context import WebContext

RECENT_ALERTS = 20
RECENT_JOBS = 10
#: How far back the job history is searched for the component's jobs.
JOB_HISTORY = 50
#: The charts' window, and the seconds each of their points averages.
CHART_WINDOW = timedelta(hours=1)
CHART_STEP = 10


async def context(web: WebContext, name: str, component: str) -> dict[str, Any]:
    """The cluster, its identity nodes, the latest check, the open and recent alerts."""
    cluster = await get_cluster(web.manager, name)
    health = await read.health(web.manager, name, component)
    alerts = await read.cluster_alerts(
        web.manager, name, open_only=False, limit=RECENT_ALERTS, component=component
    )
    return {
        "cluster": cluster,
        "members": [s.hostname for s in cluster.servers if s.role is Role.IDENTITY],
        "snapshot": health.snapshot.data if health.snapshot else None,
        "checked_at": health.snapshot.at if health.snapshot else None,
        "open_alerts": health.open_alerts,
        "alerts": alerts,
        "interval": web.manager.settings.watch_interval,
        "watching": web.manager.settings.watch_enabled,
        "window_minutes": int(CHART_WINDOW.total_seconds() // 60),
        "chart_step": CHART_STEP,
    }


async def recent_jobs(web: WebContext, name: str, prefix: str) -> list[JobSummary]:
    """The cluster's latest jobs whose kind starts with ``prefix`` (``ldap-``...)."""
    history = await jobs.summaries(web.manager, cluster=name, limit=JOB_HISTORY)
    return [j for j in history if j.kind.startswith(prefix)][:RECENT_JOBS]


async def history(web: WebContext, name: str, component: str) -> HistoryView:
    """The component's samples over the charts' window, averaged per :data:`CHART_STEP`."""
    until = datetime.now(UTC)
    return await read.history(
        web.manager, name, component, since=until - CHART_WINDOW, until=until, step=CHART_STEP
    )
