"""Cluster health as gauges, for the manager's ``/metrics`` (a Prometheus scrapes it).

What every component shares is read here, from the monitor's rows: open alerts
per cluster, component and severity; when each component of each cluster was
last checked; the newest sample of each measured thing (replication lag and
probe times, health-check times...) from the last :data:`FRESH` seconds, as
``<component>_<metric>``.  What only a component knows (a cache hop up or
down, a backend's state) it says itself from its latest snapshot: its
``gauges`` part (:data:`GaugesOf`) turns the snapshot's data into
:class:`Gauge` values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor.alerts import Severity
from clustermgr.monitor.models import Sample, Snapshot
from clustermgr.monitor.store import checked_at, open_counts

#: Samples older than this (seconds) are stale: no gauge (the watcher stopped).
FRESH = 600


@dataclass(frozen=True)
class Gauge:
    """One value now: ``name`` (``hop_up``; the exposition prefixes it), what it is, and
    its labels (the cluster is added)."""

    name: str
    help: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


#: A component's gauges from its latest snapshot's data.
GaugesOf = Callable[[dict[str, Any]], Iterable[Gauge]]

_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(*parts: str) -> str:
    """``parts`` joined into a valid Prometheus metric name."""
    return _NOT_IN_NAME.sub("_", "_".join(parts))


@dataclass(frozen=True)
class Health:
    """Every gauge, each with its component (``""`` for the manager's own)."""

    gauges: list[tuple[str, str, Gauge]]


async def health(manager: Manager, gauges_of: Mapping[str, GaugesOf]) -> Health:
    """The health of every cluster now: ``gauges_of`` maps a component to its part."""
    out: list[tuple[str, str, Gauge]] = []
    checked = await checked_at(manager)
    open_ = {(c.cluster, c.component, c.severity): c.count for c in await open_counts(manager)}
    for cluster, component in sorted(set(checked) | {(c, comp) for c, comp, _ in open_}):
        for severity in Severity:
            count = open_.get((cluster, component, severity.value), 0)
            out.append(
                (
                    cluster,
                    "",
                    Gauge(
                        "alerts_open",
                        "Alerts open, by cluster, component and severity.",
                        count,
                        {"component": component, "severity": severity.value},
                    ),
                )
            )
    for (cluster, component), at in sorted(checked.items()):
        out.append(
            (
                cluster,
                "",
                Gauge(
                    "check_timestamp_seconds",
                    "When the watcher last checked the component (epoch seconds).",
                    at.timestamp(),
                    {"component": component},
                ),
            )
        )
    for sample in await _latest_samples(manager):
        out.append(
            (
                sample.cluster,
                sample.component,
                Gauge(
                    metric_name(sample.metric),
                    f"The newest {sample.metric} sample the watcher took.",
                    sample.value,
                    {"host": sample.host, "peer": sample.peer or ""},
                ),
            )
        )
    async with manager.db.session() as session:
        snapshots = list(
            await session.scalars(select(Snapshot).where(Snapshot.component.in_(list(gauges_of))))
        )
    for row in sorted(snapshots, key=lambda r: (r.cluster, r.component)):
        for gauge in gauges_of[row.component](row.data or {}):
            out.append((row.cluster, row.component, gauge))
    return Health(out)


async def _latest_samples(manager: Manager) -> list[Sample]:
    """The newest sample of each (cluster, component, metric, host, peer), if fresh."""
    since = utcnow() - timedelta(seconds=FRESH)
    newest = (
        select(func.max(Sample.id))
        .where(Sample.at >= since)
        .group_by(Sample.cluster, Sample.component, Sample.metric, Sample.host, Sample.peer)
    )
    async with manager.db.session() as session:
        rows = await session.scalars(
            select(Sample)
            .where(Sample.id.in_(newest))
            .order_by(Sample.cluster, Sample.component, Sample.metric, Sample.host, Sample.peer)
        )
        return list(rows)
