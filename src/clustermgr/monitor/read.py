"""The monitor's read use cases for every front end: a cluster's LDAP (and load
balancer) health and history.

Each checks that the cluster exists first (NotFound otherwise), so a typo is an
error rather than an empty answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clustermgr.components.ldap.findings import COMPONENT
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.monitor import store
from clustermgr.monitor.views import AlertView, SampleView, SnapshotView


@dataclass(frozen=True)
class LdapHealth:
    cluster: str
    #: The latest cycle's findings; None when no watcher has checked the cluster yet.
    snapshot: SnapshotView | None
    open_alerts: list[AlertView]


async def component_health(manager: Manager, cluster: str, component: str) -> LdapHealth:
    """The latest check of ``component`` (``ldap``, ``lb``) and its open alerts."""
    await get_cluster(manager, cluster)
    snapshot = await store.latest(manager, cluster, component)
    alerts = await store.alerts(manager, cluster, open_only=True, component=component)
    return LdapHealth(cluster, snapshot, alerts)


async def ldap_health(manager: Manager, cluster: str) -> LdapHealth:
    return await component_health(manager, cluster, COMPONENT)


async def ldap_history(
    manager: Manager,
    cluster: str,
    *,
    since: datetime,
    until: datetime | None = None,
    metric: str | None = None,
) -> list[SampleView]:
    await get_cluster(manager, cluster)
    return await store.history(manager, cluster, COMPONENT, since=since, until=until, metric=metric)


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
