"""The watcher's ``metrics`` component: scrape every server, store the series.

Every cluster whose exporters an apply set up is scraped, by the process holding its
``metrics`` lease, every ``scrape_seconds`` (the cluster's ``metrics`` settings,
default ``CLUSTERMGR_METRICS_SCRAPE_SECONDS``): every server's sources at once
(:mod:`~clustermgr.components.metrics.scrape`), counters turned into rates, the
points written to the series store (:mod:`clustermgr.monitor.series.store`: the
manager's database, whose closed minutes and hours are then rolled up, or
VictoriaMetrics), at the scrape's second.  A store that takes nothing (an
unreachable VictoriaMetrics) loses that scrape's points, and the snapshot's
``store`` says why; the scrape goes on.  A server that cannot be reached gives
no points (a gap, never zeros) and opens ``host-unreachable:H``: a warning at
first, of the ``host-unreachable`` rule's severity (critical) once it has lasted
the rule's duration (by default ``CLUSTERMGR_METRICS_UNREACHABLE_AFTER`` seconds);
it resolves when the server answers again.  The cluster's threshold rules are
evaluated on every scrape's values (:mod:`~clustermgr.components.metrics.evaluate`):
their alerts open and resolve with the same cycle.  What each source said is in
the snapshot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from clustermgr.components.metrics import rulestore
from clustermgr.components.metrics.evaluate import evaluate
from clustermgr.components.metrics.measures import host_values
from clustermgr.components.metrics.rules import UNREACHABLE
from clustermgr.components.metrics.scrape import HostScrape, scrape_host
from clustermgr.components.metrics.scrapeparse import derive
from clustermgr.components.metrics.settingsstore import scraped_clusters
from clustermgr.components.metrics.status import MetricsStatus
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store as alert_store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.series import ingest
from clustermgr.monitor.series.store import SeriesStore, Written, series_store
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access
from clustermgr.settings import Settings

COMPONENT = "metrics"


def unreachable_finding(
    host: str, why: str, seconds: float, after: float, severity: Severity = Severity.CRITICAL
) -> Finding:
    """A warning until the server has been unreachable for ``after`` seconds, then
    ``severity``."""
    severity = severity if seconds >= after else Severity.WARNING
    return Finding(
        f"host-unreachable:{host}",
        severity,
        f"{host} cannot be reached to read its metrics (for {seconds:.0f} s)",
        why,
    )


def snapshot(
    cluster: str, at: float, scraped: list[HostScrape], written: Written, kind: str
) -> dict[str, Any]:
    """What the scrape read of each server (as ``metrics status`` says it), how many
    points it stored, and whether the series store (``kind``) took them."""
    now = MetricsStatus(cluster, tuple(scraped)).as_dict()
    return {
        "scraped_at": round(at, 3),
        "points": written.points,
        "ok": now["ok"],
        "hosts": now["hosts"],
        "store": written.as_dict(kind),
    }


class _ClusterState:
    """What the scrape keeps about one cluster between two scrapes."""

    def __init__(self, cluster: str) -> None:
        self.rates = ingest.Rates()
        self.access: HostAccess | None = None
        #: When the last scrape started (monotonic seconds).
        self.scraped: float | None = None
        #: Host -> since when (epoch seconds) it has been unreachable.
        self.down_since: dict[str, float] = {}
        #: Threshold rule instance (its alert key) -> since when it has been breached.
        self.breached_since: dict[str, float] = {}


class MetricsWatch:
    """The ``metrics`` component of the watcher: one scrape per cluster when it is due."""

    name = COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self._every: dict[str, float] = {}
        self._state: dict[str, _ClusterState] = {}
        #: Where the points go (one for every cluster: an outage is logged once).
        self.store: SeriesStore = series_store(manager)

    def tick(self, settings: Settings) -> float:
        return min(settings.watch_interval, settings.metrics_scrape_seconds)

    def interval(self, settings: Settings) -> float:
        return self.tick(settings)

    async def clusters(self) -> list[str]:
        self._every = await scraped_clusters(self.manager)
        return list(self._every)

    def due(self, cluster: str, now: float) -> bool:
        """Whether ``cluster``'s interval has passed since its last scrape (half a tick
        early counts: the watcher's ticks are not exact)."""
        state = self._state.get(cluster)
        if state is None or state.scraped is None:
            return True
        every = self._every.get(cluster, self.settings.metrics_scrape_seconds)
        return now - state.scraped >= every - self.tick(self.settings) / 2

    def scraped(self, cluster: str, at: float) -> _ClusterState:
        """Note a scrape of ``cluster`` starting at ``at`` (monotonic seconds)."""
        state = self._state.setdefault(cluster, _ClusterState(cluster))
        state.scraped = at
        return state

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        started = time.monotonic()
        if not self.due(cluster, started):
            return
        state = self.scraped(cluster, started)
        if state.access is None:
            settings = check_settings(self.settings)
            state.access = await open_access(self.manager, cluster, settings=settings)
        access = state.access
        at = time.time()
        timeout = self.settings.watch_timeout
        scraped = list(
            await asyncio.gather(
                *(scrape_host(access, s, timeout) for s in access.servers.values())
            )
        )
        rules = await rulestore.enabled_rules(self.manager, cluster)
        unreachable = next((r for r in rules if r.id == UNREACHABLE), None)
        readings = []
        findings = []
        for s in scraped:
            if s.unreachable is None:
                state.down_since.pop(s.host, None)
                readings += s.readings
                continue
            state.rates.forget(s.host)
            since = state.down_since.setdefault(s.host, at)
            if unreachable is not None:
                lasted = at - since
                after, severity = unreachable.duration, unreachable.severity
                findings.append(unreachable_finding(s.host, s.unreachable, lasted, after, severity))
        points = derive(state.rates.points(readings, at))
        written = await self.store.write(cluster, int(at), points)
        opened = await alert_store.alerts(
            self.manager, cluster, open_only=True, component=COMPONENT, limit=100_000
        )
        roles = {v.hostname: v.role for v in access.servers.values()}
        judged = evaluate(
            rules,
            roles,
            host_values(points),
            {a.key for a in opened},
            state.breached_since,
            at,
        )
        state.breached_since = judged.starts
        yield Cycle(
            cluster,
            COMPONENT,
            utcnow(),
            snapshot(cluster, at, scraped, written, self.store.kind),
            findings=[*findings, *judged.findings],
            unknown=judged.unknown,
        )

    async def forget(self, cluster: str) -> None:
        state = self._state.pop(cluster, None)
        if state is not None and state.access is not None:
            await close_access(state.access, self.settings.watch_timeout)

    async def close(self) -> None:
        for name in list(self._state):
            await self.forget(name)
        await self.store.aclose()
