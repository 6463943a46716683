"""The monitor's read use cases for every front end: a component's health and history,
a cluster's alerts (filtered), every cluster's overview and the count of open critical alerts.

Each checks that the cluster exists first (NotFound otherwise), so a typo is an
error rather than an empty answer.  The component is a name (``ldap``, ``cache``,
``lb``...): this module knows none of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterView
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Severity
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


@dataclass(frozen=True)
class AlertFilter:
    """Which of a cluster's alerts to list: each None means any."""

    component: str | None = None
    host: str | None = None
    severity: Severity | None = None


def alert_filter(
    cluster: ClusterView,
    components: Collection[str],
    *,
    component: str | None = None,
    host: str | None = None,
    severity: str | None = None,
) -> AlertFilter:
    """A filter of ``cluster``'s alerts from what a person typed: an empty value is any;
    a component, host or severity the cluster does not have is refused (InvalidInput)."""
    hosts = [s.hostname for s in cluster.servers]
    return AlertFilter(
        component=_one_of(component, sorted(components), "component"),
        host=_one_of(host, hosts, f"host of cluster {cluster.name}"),
        severity=Severity(value) if (value := _one_of(severity, SEVERITIES, "severity")) else None,
    )


SEVERITIES = tuple(s.value for s in Severity)


def _one_of(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value not in allowed:
        shown = value if len(value) <= 64 else value[:64] + "..."
        raise InvalidInput(
            f"no {what} {shown!r}",
            hint=f"one of: {', '.join(allowed)}" if allowed else f"the cluster has no {what}",
        )
    return value


async def cluster_alerts(
    manager: Manager,
    cluster: str,
    *,
    open_only: bool,
    limit: int = 100,
    before_id: int | None = None,
    component: str | None = None,
    where: AlertFilter | None = None,
) -> list[AlertView]:
    """The cluster's alerts newest first, of ``component`` and matching ``where``."""
    await get_cluster(manager, cluster)
    where = where or AlertFilter()
    return await store.alerts(
        manager,
        cluster,
        open_only=open_only,
        limit=limit,
        before_id=before_id,
        component=component or where.component,
        host=where.host,
        severity=where.severity.value if where.severity else None,
    )


@dataclass(frozen=True)
class Overview:
    """Every cluster's latest checks and open alerts per component (two queries)."""

    checked: dict[tuple[str, str], datetime]
    counts: dict[tuple[str, str], dict[str, int]]

    def checked_at(self, cluster: str, component: str) -> datetime | None:
        return self.checked.get((cluster, component))

    def open_alerts(self, cluster: str, component: str) -> dict[str, int]:
        """Open alerts per severity (``critical``, ``warning``) of the component."""
        return self.counts.get((cluster, component), {})


async def overview(manager: Manager) -> Overview:
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for row in await store.open_counts(manager):
        counts.setdefault((row.cluster, row.component), {})[row.severity] = row.count
    return Overview(await store.checked_at(manager), counts)


async def open_critical(manager: Manager) -> int:
    """Open critical alerts across every cluster."""
    return await store.open_count(manager, severity=Severity.CRITICAL.value)
