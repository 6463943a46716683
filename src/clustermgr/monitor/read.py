"""The monitor's read use cases for every front end: a component's health and history,
a cluster's alerts.

Each checks that the cluster exists first (NotFound otherwise), so a typo is an
error rather than an empty answer.  The component is a name (``ldap``, ``cache``,
``lb``...): this module knows none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.monitor import store
from clustermgr.monitor.views import AlertView, HistoryView, SampleView, SnapshotView


@dataclass(frozen=True)
class ComponentHealth:
    cluster: str
    component: str
    #: The latest cycle's findings; None when no watcher has checked the cluster yet.
    snapshot: SnapshotView | None
    open_alerts: list[AlertView]


async def health(manager: Manager, cluster: str, component: str) -> ComponentHealth:
    """The latest check of ``component`` and its open alerts."""
    await get_cluster(manager, cluster)
    snapshot = await store.latest(manager, cluster, component)
    alerts = await store.alerts(manager, cluster, open_only=True, component=component)
    return ComponentHealth(cluster, component, snapshot, alerts)


async def history(
    manager: Manager,
    cluster: str,
    component: str,
    *,
    since: datetime,
    until: datetime,
    step: int,
    metric: str | None = None,
) -> HistoryView:
    """``component``'s samples per series, averaged per ``step`` seconds (see the store)."""
    await get_cluster(manager, cluster)
    return await store.history(
        manager, cluster, component, since=since, until=until, step=step, metric=metric
    )


async def samples(
    manager: Manager,
    cluster: str,
    component: str,
    *,
    since: datetime,
    until: datetime | None = None,
    metric: str | None = None,
) -> list[SampleView]:
    """``component``'s samples themselves, oldest first (the newest when there are many)."""
    await get_cluster(manager, cluster)
    return await store.samples(manager, cluster, component, since=since, until=until, metric=metric)


async def cluster_alerts(
    manager: Manager,
    cluster: str,
    *,
    open_only: bool,
    limit: int = 100,
    before_id: int | None = None,
    component: str | None = None,
) -> list[AlertView]:
    await get_cluster(manager, cluster)
    return await store.alerts(
        manager,
        cluster,
        open_only=open_only,
        limit=limit,
        before_id=before_id,
        component=component,
    )
