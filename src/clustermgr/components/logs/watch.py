"""The watcher's ``logs`` component: every server's logs read into the log store.

Every cluster the logs stage was applied on is checked, by the process holding its
``logs`` lease, every :data:`INTERVAL` seconds.  Each server keeps one follower
running across checks (:class:`~clustermgr.components.logs.collector.HostFollower`),
started with the server's sources (its role's, on its platform) from the store's
resume points; a check stores what the followers wrote since the last one.  A
follower that stops (its connection lost, silent for three beats, ended) is started
again from the store's resume points, after a back-off: nothing is lost, nothing
stored twice.  Closing the watcher's part (a manager that stops) stops them all.

About every :data:`PRUNE_EVERY` seconds (the first check after a start too), a check
starts pruning the cluster's logs to its retention (its ``logs`` settings' age and
size, :meth:`LogsWatch.retain`), as a task of its own: a long pruning never holds a
check up.  A pruning that fails is logged and tried again an hour later; collection
goes on.

Its alerts: ``log-source:HOST:SOURCE`` (a warning) while a source cannot be read
(permission denied) or fails, as the follower says (a missing file is waited for,
without an alert); ``log-follower:HOST`` (critical,
what the logs stage set up is broken) while a server's follower cannot run; and
``host-unreachable:HOST`` (a warning) while a server cannot be reached.  The alerts
of a server whose follower does not run stay as they are until it runs again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from clustermgr.components.logs.collector import FollowerStopped, HostFollower
from clustermgr.components.logs.masking import hold_cluster_secrets
from clustermgr.components.logs.settingsstore import (
    COMPONENT,
    applied_clusters,
    cluster_logs_settings,
)
from clustermgr.components.logs.sources import sources_for
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError, CommandTimeout, HostUnreachable, RemoteError
from clustermgr.logstore.store import LogStore, log_store
from clustermgr.monitor import store as alert_store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access, forget_host
from clustermgr.settings import Settings

log = logging.getLogger(__name__)

#: Seconds between two checks of a cluster; a check reads for most of it.
INTERVAL = 1.0
#: Seconds between two prunings of a cluster's logs.
PRUNE_EVERY = 3600.0
#: The part of the interval a check spends reading the followers.
DRAIN_SHARE = 0.8
#: The source states that open an alert: a file that does not exist (yet) is only
#: waited for (a log of a service the cluster does not run is no problem).
ALERTED_STATES = frozenset({"denied", "error"})
#: Alert key prefixes (``PREFIX:HOST...``).
SOURCE_ALERT = "log-source"
FOLLOWER_ALERT = "log-follower"
UNREACHABLE_ALERT = "host-unreachable"


def source_finding(host: str, source: str, state: str, detail: str) -> Finding:
    return Finding(
        f"{SOURCE_ALERT}:{host}:{source}",
        Severity.WARNING,
        f"the log {source} of {host} cannot be read ({state})",
        detail,
    )


def follower_finding(host: str, why: str) -> Finding:
    return Finding(
        f"{FOLLOWER_ALERT}:{host}",
        Severity.CRITICAL,
        f"the log follower of {host} does not run",
        why,
    )


def unreachable_finding(host: str, why: str, seconds: float) -> Finding:
    return Finding(
        f"{UNREACHABLE_ALERT}:{host}",
        Severity.WARNING,
        f"{host} cannot be reached to read its logs (for {seconds:.0f} s)",
        why,
    )


def host_of(key: str) -> str:
    """The server an alert of this component is about (``PREFIX:HOST[:SOURCE]``)."""
    parts = key.split(":")
    return parts[1] if len(parts) > 1 else ""


def judge(
    hosts: Sequence[str],
    followers: Mapping[str, HostFollower],
    down: Mapping[str, tuple[float, str]],
    opened: Sequence[str],
    at: float,
) -> tuple[list[Finding], list[str]]:
    """The findings of a check, and the open alerts it cannot judge: a server out of
    reach has only its ``host-unreachable`` judged, a reachable one whose follower does
    not run only its ``log-follower``; their source states are not known."""
    findings: list[Finding] = []
    judged: dict[str, tuple[str, ...]] = {}
    for host in hosts:
        follower = followers.get(host)
        if host in down:
            since, why = down[host]
            findings.append(unreachable_finding(host, why, at - since))
            judged[host] = (UNREACHABLE_ALERT,)
        elif follower is None or not follower.running:
            if follower is not None and follower.problem is not None:
                findings.append(follower_finding(host, follower.problem))
            judged[host] = (UNREACHABLE_ALERT, FOLLOWER_ALERT)
        else:
            findings += [
                source_finding(host, s.source, s.state, s.detail)
                for s in follower.states.values()
                if s.state in ALERTED_STATES
            ]
    found = {f.key for f in findings}
    unknown = [
        key
        for key in opened
        if key not in found
        and host_of(key) in judged
        and key.split(":", 1)[0] not in judged[host_of(key)]
    ]
    return findings, unknown


class _ClusterState:
    def __init__(self) -> None:
        self.access: HostAccess | None = None
        self.followers: dict[str, HostFollower] = {}
        #: Host -> since when (epoch seconds) it has been unreachable, and why.
        self.down: dict[str, tuple[float, str]] = {}


class LogsWatch:
    """The ``logs`` component of the watcher: the servers' followers, kept running."""

    name = COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.store: LogStore = log_store(manager)
        self._state: dict[str, _ClusterState] = {}
        #: Cluster -> when (monotonic seconds) its last pruning began, and that pruning
        #: (kept when a cluster's check state is dropped: the hourly rhythm goes on).
        self._pruned: dict[str, float] = {}
        self._pruning: dict[str, asyncio.Task[int | None]] = {}

    def interval(self, settings: Settings) -> float:
        return INTERVAL

    async def clusters(self) -> list[str]:
        return await applied_clusters(self.manager)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        state = self._state.setdefault(cluster, _ClusterState())
        if state.access is None:
            await hold_cluster_secrets(self.manager, cluster)  # masked in every record
            settings = check_settings(self.settings)
            state.access = await open_access(self.manager, cluster, settings=settings)
        access = state.access
        hosts = list(access.servers)
        # Every host's collection ends before the check does (none left running on its
        # follower's stream when one fails).
        results = await asyncio.gather(
            *(self._collect(cluster, state, access, h) for h in hosts), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        read = [r for r in results if not isinstance(r, BaseException)]
        self.retain(cluster, time.monotonic())
        opened = await alert_store.alerts(
            self.manager, cluster, open_only=True, component=COMPONENT, limit=100_000
        )
        findings, unknown = judge(
            hosts, state.followers, state.down, [a.key for a in opened], time.time()
        )
        yield Cycle(
            cluster,
            COMPONENT,
            utcnow(),
            self.snapshot(state, dict(zip(hosts, read, strict=True))),
            findings=findings,
            unknown=unknown,
        )

    def retain(self, cluster: str, now: float) -> asyncio.Task[int | None] | None:
        """Start pruning ``cluster``'s logs to its retention, beside the checks, when
        :data:`PRUNE_EVERY` seconds went by since the last pruning began (monotonic
        ``now``) and none runs: the pruning started, or None."""
        last = self._pruned.get(cluster)
        running = self._pruning.get(cluster)
        if (last is not None and now - last < PRUNE_EVERY) or (running and not running.done()):
            return None
        self._pruned[cluster] = now
        task = asyncio.create_task(self.prune(cluster), name=f"logs-prune-{cluster}")
        self._pruning[cluster] = task
        return task

    async def prune(self, cluster: str) -> int | None:
        """Prune ``cluster``'s logs to its ``logs`` settings' age and size: how many
        records went, or None when it failed (logged)."""
        try:
            kept = await cluster_logs_settings(self.manager, cluster)
            removed = await self.store.prune(
                cluster, max_age=kept.max_age, max_bytes=kept.max_bytes
            )
        except ClustermgrError as exc:
            log.warning("cluster %s: pruning its logs failed: %s", cluster, exc.message)
            return None
        except Exception:  # the store's own error: collection goes on
            log.exception("cluster %s: pruning its logs failed", cluster)
            return None
        log.info(
            "cluster %s: %d log records pruned (older than %d days or beyond %d MB)",
            cluster,
            removed,
            kept.max_age_days,
            kept.max_megabytes,
        )
        return removed

    def snapshot(self, state: _ClusterState, read: dict[str, int]) -> dict[str, Any]:
        hosts = {}
        for host, records in read.items():
            follower = state.followers.get(host)
            hosts[host] = {
                "running": follower is not None and follower.running,
                "records": records,
                "problem": state.down[host][1]
                if host in state.down
                else (follower.problem if follower is not None else None),
                "sources": {
                    s.source: s.state for s in (follower.states.values() if follower else ())
                },
            }
        return {"records": sum(read.values()), "hosts": hosts}

    async def _collect(
        self, cluster: str, state: _ClusterState, access: HostAccess, host: str
    ) -> int:
        """Keep ``host``'s follower running and store what it wrote; the records stored."""
        follower = state.followers.get(host)
        if follower is None:
            follower = state.followers[host] = HostFollower(cluster, host, self.store)
        if follower.due(time.monotonic()):
            try:
                conn = await access.connection(host)
                platform = await access.platform(host)
                role = access.servers[host].role
                await follower.start(conn, sources_for(role, platform))
            except (HostUnreachable, CommandTimeout) as exc:
                await self._lost(state, access, follower, exc)
                return 0
            except RemoteError as exc:
                state.down.pop(host, None)
                follower.failed(exc.message)
                return 0
        if not follower.running:
            return 0
        state.down.pop(host, None)
        try:
            drained = await follower.drain(INTERVAL * DRAIN_SHARE)
        except HostUnreachable as exc:
            await self._lost(state, access, follower, exc)
            return 0
        except FollowerStopped as exc:
            follower.failed(exc.message)
            return 0
        return drained.records

    async def _lost(
        self, state: _ClusterState, access: HostAccess, follower: HostFollower, exc: RemoteError
    ) -> None:
        """``follower``'s server cannot be reached: its connection is dropped."""
        state.down.setdefault(follower.host, (time.time(), exc.message))
        follower.failed(exc.message)
        await forget_host(access, follower.host)

    async def forget(self, cluster: str) -> None:
        state = self._state.pop(cluster, None)
        if state is None:
            return
        await asyncio.gather(*(f.stop() for f in state.followers.values()))
        if state.access is not None:
            await close_access(state.access, self.settings.watch_timeout)

    async def close(self) -> None:
        for name in list(self._state):
            await self.forget(name)
        for task in self._pruning.values():
            task.cancel()
        await asyncio.gather(*self._pruning.values(), return_exceptions=True)
        self._pruning.clear()
