"""The watcher: a check cycle every few seconds per replicating cluster (and per load
balancer: :mod:`lbwatch`).

Each cycle, for every cluster whose identity nodes have LDAP server ids (``ldap
apply`` or ``plan`` ran), and only while this process holds the cluster's lease:

1. every node is checked at once (:mod:`ldapnodes`): SSH, slapd over ldapi,
   contextCSN, each agreement from the consumer's side; short timeouts, so a
   stopped or partitioned node costs seconds, not a stalled cycle;
2. findings open, refresh and resolve alerts; lags are stored as samples;
3. one node (in turn, cycle after cycle) writes a probe entry, timed until
   every other node has it; its times are stored and a probe that does not
   arrive opens a ``probe:`` alert.

Alerts are written before the probe runs, so a fault shows within one
interval plus one check (about 10 s with the defaults).

The lease (a row per cluster, conditional UPDATE with an expiry, renewed every
cycle) keeps two manager processes sharing one database from both watching the
same cluster.  Every ``watch_compare_every`` cycles, when replication is at rest,
the nodes' data is compared (:mod:`ldapdata`): its findings count like the
others and stay as they were between its runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clustermgr.components.cache import watch as cachewatch
from clustermgr.components.cache.apply import cache_clusters
from clustermgr.components.cache.findings import COMPONENT as CACHE
from clustermgr.components.lb import findings as lbfindings
from clustermgr.components.lb.watch import LbWatch, proxied_clusters
from clustermgr.components.ldap import datacheck as ldapdata
from clustermgr.components.ldap import status as ldap
from clustermgr.components.ldap.findings import (
    COMPONENT,
    Divergence,
    Probe,
    evaluate,
    probe_findings,
    probe_key,
    probe_measures,
    probes_list,
)
from clustermgr.components.ldap.nodecheck import NodeCheck, NodeState, check_node
from clustermgr.components.ldap.replicated import replicated_clusters, replicated_members
from clustermgr.core.access import HostAccess, get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.views import AlertView
from clustermgr.settings import Settings

log = logging.getLogger(__name__)

#: A data comparison of the nodes: findings (keys ``data:H``), or None when it could
#: not judge.  Called every ``compare_every`` cycles while replication is at rest.
Compare = Callable[[HostAccess, Sequence[str]], Awaitable[Sequence[Finding] | None]]

#: Seconds between two prunings of old samples.
PRUNE_EVERY = 3600.0


@dataclass(frozen=True)
class CycleReport:
    cluster: str
    at: datetime
    #: False when another process holds the cluster's lease (nothing was checked).
    watched: bool
    seconds: float = 0.0
    opened: list[AlertView] = field(default_factory=list)
    resolved: list[AlertView] = field(default_factory=list)
    snapshot: dict[str, Any] = field(default_factory=dict)
    #: ``ldap`` (replication), ``cache`` or ``lb`` (the load balancer's health checks).
    component: str = COMPONENT

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "component": self.component,
            "at": self.at.isoformat(),
            "watched": self.watched,
            "seconds": self.seconds,
            "opened": [a.as_dict() for a in self.opened],
            "resolved": [a.as_dict() for a in self.resolved],
            "snapshot": self.snapshot,
        }


@dataclass
class _ClusterWatch:
    """What the watcher keeps per cluster between cycles."""

    members: dict[str, int]
    access: HostAccess
    divergence: Divergence
    probes: dict[str, Probe] = field(default_factory=dict)
    turn: int = 0
    compare_findings: list[Finding] = field(default_factory=list)
    cycles: int = 0
    #: The cycle of the last comparison (0: none yet).
    compared: int = 0


class Watcher:
    def __init__(
        self,
        manager: Manager,
        *,
        cluster: str | None = None,
        compare: Compare | None = ldapdata.check,
        compare_every: int | None = None,
    ) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.cluster = cluster
        self.compare = compare
        self.compare_every = (
            manager.settings.watch_compare_every if compare_every is None else compare_every
        )
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._watches: dict[str, _ClusterWatch] = {}
        self._cache: dict[str, cachewatch.CacheWatch] = {}
        self._pruned = 0.0
        #: Probes given up on (their source stopped answering), still ending.
        self._stray: set[asyncio.Task[Any]] = set()
        self.lb = LbWatch(
            manager, self._access_settings(), self.holder, self.lease_seconds, cluster=cluster
        )

    @property
    def lease_seconds(self) -> float:
        """Long enough to outlast one slow cycle; short enough to hand over quickly."""
        s = self.settings
        return max(3 * s.watch_interval, s.watch_interval + 2 * s.watch_timeout + 2)

    def _access_settings(self) -> Settings:
        timeout = self.settings.watch_timeout
        return self.settings.model_copy(
            update={"connect_timeout": timeout, "command_timeout": timeout}
        )

    async def clusters(self) -> list[str]:
        if self.cluster is None:
            return await replicated_clusters(self.manager)
        await get_cluster(self.manager, self.cluster)  # NotFound for a name not in the inventory
        if not await replicated_members(self.manager, self.cluster):
            if self.cluster in await proxied_clusters(self.manager):
                return []  # only its load balancer is watched
            raise InvalidInput(
                f"cluster {self.cluster!r} has no LDAP replication or load balancer to watch",
                hint=f"set it up first: clustermgr ldap apply {self.cluster}",
            )
        return [self.cluster]

    async def cycle(self) -> list[CycleReport]:
        """One check of every watched cluster (at once); a report per cluster."""
        names = await self.clusters()
        for gone in set(self._watches) - set(names):
            await self._drop(gone)
        cached = [n for n in await cache_clusters(self.manager) if n in names]
        for gone in set(self._cache) - set(cached):
            await self._drop_cache(gone)
        reports, balanced = await asyncio.gather(
            asyncio.gather(
                *(self._cycle(name) for name in names), *(self._cache_cycle(n) for n in cached)
            ),
            self.lb.cycle(),
        )
        now = utcnow()
        lb_reports = [
            CycleReport(c, now, True, secs, rec.opened, rec.resolved, snap, lbfindings.COMPONENT)
            for c, secs, rec, snap in balanced
        ]
        if time.monotonic() - self._pruned > PRUNE_EVERY:
            days = self.settings.monitor_retention_days
            await store.prune(self.manager, older_than=timedelta(days=days))
            self._pruned = time.monotonic()
        return [*reports, *lb_reports]

    async def run(
        self, stop: asyncio.Event, on_cycle: Callable[[list[CycleReport]], None] | None = None
    ) -> None:
        """Cycle every ``watch_interval`` seconds (start to start) until ``stop`` is set.

        A failing cycle (the database away for a moment) is logged and the next
        one runs as usual.
        """
        interval = self.settings.watch_interval
        while not stop.is_set():
            started = time.monotonic()
            try:
                reports = await self.cycle()
            except ClustermgrError as exc:
                log.warning("LDAP watcher: %s", exc.message)
            except Exception:  # a long-running loop: say what broke, try again next cycle
                log.exception("LDAP watcher: the cycle failed")
            else:
                if on_cycle is not None:
                    on_cycle(reports)
            pause = max(0.0, interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def close(self) -> None:
        """Release every lease (another process takes over at once) and close connections."""
        if self._stray:
            await asyncio.wait(set(self._stray), timeout=self.settings.watch_timeout)
        for name in list(self._watches):
            await self._drop(name)
        for name in list(self._cache):
            await self._drop_cache(name)
        await self.lb.close()

    async def _drop_cache(self, name: str) -> None:
        watch = self._cache.pop(name, None)
        if watch is not None:
            await cachewatch.close(watch, self.settings.watch_timeout)
            await store.release_lease(self.manager, cachewatch.lease(name), self.holder)

    async def _cache_cycle(self, name: str) -> CycleReport:
        """The cache chain of one cluster: read, judge, repair, record (cachewatch)."""
        started = time.monotonic()
        lease = cachewatch.lease(name)
        if not await store.take_lease(self.manager, lease, self.holder, seconds=self.lease_seconds):
            watch = self._cache.pop(name, None)
            if watch is not None:
                await cachewatch.close(watch, self.settings.watch_timeout)
            return CycleReport(name, utcnow(), watched=False, component=CACHE)
        watch = self._cache.get(name)
        if watch is None:
            watch = await cachewatch.open_watch(self.manager, name, self._access_settings())
            self._cache[name] = watch
        timeout = self.settings.watch_timeout
        recorded, snapshot = await cachewatch.check(self.manager, name, watch, timeout)
        for alert in recorded.opened:
            log.warning("alert opened: %s: %s", alert.key, alert.message)
        return CycleReport(
            name,
            utcnow(),
            True,
            round(time.monotonic() - started, 3),
            list(recorded.opened),
            list(recorded.resolved),
            snapshot,
            component=CACHE,
        )

    async def _drop(self, name: str) -> None:
        watch = self._watches.pop(name, None)
        if watch is not None:
            await self._close(watch.access)
            await store.release_lease(self.manager, _lease(name), self.holder)

    async def _close(self, access: HostAccess) -> None:
        """Close a cluster's connections; one to a node that vanished must not hang here."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(access.close(), self.settings.watch_timeout)

    async def _watch(self, name: str) -> _ClusterWatch | None:
        members = await replicated_members(self.manager, name)
        watch = self._watches.get(name)
        if watch is not None and watch.members == members:
            return watch
        if watch is not None:
            await self._close(watch.access)
        if not members:
            self._watches.pop(name, None)
            return None
        access = await open_access(
            self.manager, name, list(members), settings=self._access_settings()
        )
        watch = _ClusterWatch(members, access, Divergence(self.settings.watch_divergence_after))
        self._watches[name] = watch
        return watch

    async def _cycle(self, name: str) -> CycleReport:
        started = time.monotonic()
        if not await store.take_lease(
            self.manager, _lease(name), self.holder, seconds=self.lease_seconds
        ):
            watch = self._watches.pop(name, None)
            if watch is not None:
                await self._close(watch.access)
            return CycleReport(name, utcnow(), watched=False)
        watch = await self._watch(name)
        if watch is None:
            return CycleReport(name, utcnow(), watched=False)
        watch.cycles += 1
        nodes = await self._check_nodes(watch)
        now = utcnow()
        await self._compare(watch, nodes)
        result = evaluate(
            watch.members,
            nodes,
            watch.divergence,
            now,
            probes=watch.probes,
        )
        findings = [*result.findings, *watch.compare_findings]
        recorded = await store.record_cycle(
            self.manager,
            Cycle(name, COMPONENT, now, result.snapshot, result.measures, findings, result.unknown),
        )
        opened, resolved = list(recorded.opened), list(recorded.resolved)
        snapshot = result.snapshot
        probe = await self._probe(watch, nodes)
        if probe is not None:
            watch.probes[probe.source] = probe
            snapshot = {**snapshot, "probes": probes_list(watch.members, watch.probes)}
            findings = probe_findings(probe, self.settings.watch_probe_timeout)
            after = await store.record_cycle(
                self.manager,
                Cycle(
                    name,
                    COMPONENT,
                    probe.at,
                    snapshot,
                    probe_measures(probe),
                    findings,
                    judged=[probe_key(probe.source)],
                ),
            )
            opened += after.opened
            resolved += after.resolved
        seconds = round(time.monotonic() - started, 3)
        for alert in opened:
            log.warning("alert opened: %s: %s", alert.key, alert.message)
        for alert in resolved:
            log.warning("alert resolved: %s", alert.key)
        return CycleReport(name, now, True, seconds, opened, resolved, snapshot)

    async def _compare(self, watch: _ClusterWatch, nodes: Sequence[NodeCheck]) -> None:
        """Compare the data when due and replication is at rest; keep the verdict otherwise."""
        due = watch.compared == 0 or watch.cycles - watch.compared >= self.compare_every
        if self.compare is None or self.compare_every <= 0 or not due:
            return
        if not ldapdata.at_rest(nodes):
            return
        watch.compared = watch.cycles
        try:
            found = await self.compare(watch.access, list(watch.members))
        except ClustermgrError as exc:
            log.warning("data comparison failed: %s", exc.message)
            return
        if found is not None:
            watch.compare_findings = list(found)

    async def _check_nodes(self, watch: _ClusterWatch) -> list[NodeCheck]:
        s = self.settings
        return list(
            await asyncio.gather(
                *(
                    check_node(
                        watch.access,
                        host,
                        timeout=s.watch_timeout,
                        agreement_timeout=s.watch_agreement_timeout,
                    )
                    for host in watch.members
                )
            )
        )

    async def _probe(self, watch: _ClusterWatch, nodes: Sequence[NodeCheck]) -> Probe | None:
        """The next node in turn (of those whose slapd answers) writes a probe."""
        up = [n.host for n in nodes if n.state is NodeState.OK]
        if len(up) < 2:
            return None
        hosts = list(watch.members)
        order = hosts[watch.turn % len(hosts) :] + hosts[: watch.turn % len(hosts)]
        source = next(h for h in order if h in up)
        watch.turn = hosts.index(source) + 1
        targets = [h for h in up if h != source]
        at = utcnow()
        s = self.settings
        task = asyncio.create_task(
            ldap.probe(
                watch.access,
                source,
                targets,
                timeout=s.watch_probe_timeout,
                command_timeout=s.watch_timeout,
            )
        )
        done, _ = await asyncio.wait({task}, timeout=s.watch_probe_timeout + 2)
        if not done:
            # The source stopped answering mid-probe (a partition): the cycle goes
            # on; the task ends on its own timeouts, an entry it leaves behind is
            # removed by a later probe write.
            task.cancel()
            self._stray.add(task)
            task.add_done_callback(_forget_task(self._stray))
            return Probe(source, at, dict.fromkeys(targets), error="no answer in time")
        try:
            return Probe(source, at, task.result())
        except ClustermgrError as exc:
            return Probe(source, at, dict.fromkeys(targets), error=exc.message)


def _forget_task(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a stray probe's failure is no news

    return done


def _lease(cluster: str) -> str:
    return f"{COMPONENT}:{cluster}"


class BackgroundWatch:
    """The watcher as a task of a long-running process (``clustermgr serve``)."""

    def __init__(self, manager: Manager) -> None:
        self.watcher = Watcher(manager)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="ldap-watcher")

    async def _run(self) -> None:
        try:
            await self.watcher.run(self._stop)
        except Exception:  # never take the web app down; say why the watching stopped
            log.exception("the LDAP watcher stopped")

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the current cycle finish (cancel it after ``timeout``), release the leases."""
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.warning("the LDAP watcher did not stop within %g s: cancelled", timeout)
        finally:
            await self.watcher.close()
