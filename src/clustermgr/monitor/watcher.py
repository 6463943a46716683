"""The watcher: every watched component checks each of its clusters, over and over.

The loop knows no component: it is given their parts (:class:`WatchedComponent`,
built from the registry by the entry points) and, per component, checks every
cluster the component lists, at once, every ``interval`` seconds.  For each
cluster it:

1. takes or renews the lease ``COMPONENT:CLUSTER`` (a row with an expiry,
   written by a conditional UPDATE), so two manager processes sharing one
   database never both check the same thing; losing it closes the cluster's
   connections;
2. leaves the component alone while a job changes it: when a live mutating job
   of the cluster (running, its heartbeat fresh) is of a kind that touches the
   component (``JobKind.touches``, read from the :class:`KindCatalog` it is
   given), nothing is checked, repaired, opened or resolved; its connections are
   closed (the next check reads the cluster anew) and the snapshot says
   ``paused_by``: the job's id.  Checks resume at the job's end;
3. runs the component's check within the lease's time, recording every cycle
   the check yields (:func:`clustermgr.monitor.store.record_cycle`: samples,
   the latest snapshot, alerts opened, refreshed and resolved) as it comes, so
   a component can record what it found before a slower part of its check runs.
   A cycle is recorded only when no job touching the component ran since the
   check started (a job may start while a check runs): otherwise the cycle is
   dropped and the check ends, as in 2;
4. logs the alerts opened and resolved, and reports the cycle
   (:class:`CycleReport`, what ``clustermgr watch --json`` prints).

Old samples, and the series store's points and roll-ups past their retention, are
pruned every hour.  A clean stop gives every lease up at once,
so another process takes over at its next cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.jobs import store as jobs
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.monitor import store
from clustermgr.monitor.series import retention
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.views import AlertView
from clustermgr.monitor.watching import WatchedComponent

log = logging.getLogger(__name__)

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
    #: The watched component's name.
    component: str = ""
    #: The job changing the component, when that paused the check (nothing recorded).
    paused_by: int | None = None

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
            "paused_by": self.paused_by,
        }


def lease_name(component: str, cluster: str) -> str:
    return f"{component}:{cluster}"


class Watcher:
    def __init__(
        self,
        manager: Manager,
        parts: Sequence[WatchedComponent],
        *,
        kinds: KindCatalog,
        cluster: str | None = None,
    ) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.parts = tuple(parts)
        #: Every job kind: which components a running job changes.
        self.kinds = kinds
        self.cluster = cluster
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        #: component -> the clusters whose lease this watcher holds.
        self._held: dict[str, set[str]] = {p.name: set() for p in self.parts}
        #: component -> cluster -> the job that paused its checks (until a check runs).
        self._paused: dict[str, dict[str, int]] = {p.name: {} for p in self.parts}
        #: When it last pruned (monotonic); None: not yet, so its first cycle does.
        self._pruned: float | None = None

    def lease_seconds(self, part: WatchedComponent) -> float:
        """Long enough to outlast one slow check; short enough to hand over quickly."""
        interval = part.interval(self.settings)
        return max(3 * interval, interval + 2 * self.settings.watch_timeout + 2)

    async def clusters(self) -> list[str]:
        """Every cluster some component watches (only ``cluster`` when given).

        With ``cluster``: NotFound for a name not in the inventory, InvalidInput when
        no component watches it."""
        if self.cluster is not None:
            await get_cluster(self.manager, self.cluster)
        found = await asyncio.gather(*(self._names(p) for p in self.parts))
        names = sorted({n for names in found for n in names})
        if self.cluster is not None and not names:
            raise InvalidInput(
                f"cluster {self.cluster!r} has nothing to watch: "
                "no watched component is set up on it",
                hint="apply one of them first: "
                + ", ".join(f"clustermgr {p.name} apply {self.cluster}" for p in self.parts),
            )
        return names

    async def cycle(self) -> list[CycleReport]:
        """One check of every watched cluster by every component (at once)."""
        if self.cluster is not None:
            await self.clusters()
        done = await asyncio.gather(*(self.cycle_of(p) for p in self.parts))
        await self._prune()
        return [r for reports in done for r in reports]

    async def cycle_of(self, part: WatchedComponent) -> list[CycleReport]:
        """One check by ``part`` of each of its clusters (at once); a report per cluster."""
        names = await self._names(part)
        for gone in self._held[part.name] - set(names):
            await self._drop(part, gone)
        return list(await asyncio.gather(*(self._check(part, n) for n in names)))

    async def run(
        self, stop: asyncio.Event, on_cycle: Callable[[list[CycleReport]], None] | None = None
    ) -> None:
        """Every component cycles at its own interval (start to start) until ``stop`` is set.

        A failing cycle (the database away for a moment) is logged and the next
        one runs as usual.
        """
        await asyncio.gather(*(self._run(p, stop, on_cycle) for p in self.parts))

    async def close(self) -> None:
        """Release every lease (another process takes over at once) and close connections."""
        for part in self.parts:
            for name in sorted(self._held[part.name]):
                await self._drop(part, name)
            try:
                await part.close()
            except Exception:  # the others must still close
                log.exception("watcher: closing %s failed", part.name)

    async def _names(self, part: WatchedComponent) -> list[str]:
        names = await part.clusters()
        return [n for n in names if self.cluster is None or n == self.cluster]

    async def _run(
        self,
        part: WatchedComponent,
        stop: asyncio.Event,
        on_cycle: Callable[[list[CycleReport]], None] | None,
    ) -> None:
        interval = part.interval(self.settings)
        while not stop.is_set():
            started = time.monotonic()
            try:
                reports = await self.cycle_of(part)
                await self._prune()
            except ClustermgrError as exc:
                log.warning("watcher: %s: %s", part.name, exc.message)
            except Exception:  # a long-running loop: say what broke, try again next cycle
                log.exception("watcher: the %s cycle failed", part.name)
            else:
                if on_cycle is not None:
                    on_cycle(reports)
            pause = max(0.0, interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def _check(self, part: WatchedComponent, name: str) -> CycleReport:
        started = time.monotonic()
        held = self._held[part.name]
        lease = lease_name(part.name, name)
        seconds = self.lease_seconds(part)
        if not await store.take_lease(self.manager, lease, self.holder, seconds=seconds):
            if name in held:
                held.discard(name)
                self._paused[part.name].pop(name, None)
                await self._forget(part, name)
            return CycleReport(name, utcnow(), watched=False, component=part.name)
        held.add(name)
        since = utcnow()
        busy = await self._changing(part, name, since)
        if busy is not None:
            return await self._pause(part, name, busy)
        at: datetime | None = None
        snapshot: dict[str, Any] = {}
        opened: list[AlertView] = []
        resolved: list[AlertView] = []
        try:
            async with asyncio.timeout(seconds), _closing(part.check(name)) as cycles:
                async for cycle in cycles:
                    busy = await self._changing(part, name, since)
                    if busy is not None:
                        break
                    recorded = await store.record_cycle(self.manager, cycle)
                    at = at or cycle.at
                    snapshot = cycle.snapshot
                    opened += recorded.opened
                    resolved += recorded.resolved
        except TimeoutError:
            log.warning("watcher: %s check of %s took over %g s", part.name, name, seconds)
            await self._forget(part, name)  # a hung connection: the next check connects anew
            snapshot = {**snapshot, "error": f"the check took over {seconds:g} s"}
        except ClustermgrError as exc:
            log.warning("watcher: %s check of %s: %s", part.name, name, exc.message)
            snapshot = {**snapshot, "error": exc.message}
        except Exception:  # the other clusters' checks must not be lost with it
            log.exception("watcher: %s check of %s failed", part.name, name)
            snapshot = {**snapshot, "error": "the check failed"}
        if busy is not None:
            return await self._pause(part, name, busy)
        if self._paused[part.name].pop(name, None) is not None:
            log.info("watcher: %s of %s: checked again", part.name, name)
        for alert in opened:
            log.warning("watcher: alert opened: %s %s: %s", name, alert.key, alert.message)
        for alert in resolved:
            log.warning("watcher: alert resolved: %s %s", name, alert.key)
        return CycleReport(
            name,
            at or utcnow(),
            True,
            round(time.monotonic() - started, 3),
            opened,
            resolved,
            snapshot,
            part.name,
        )

    async def _changing(self, part: WatchedComponent, name: str, since: datetime) -> int | None:
        """The first job that changes ``part`` on ``name`` now or did since ``since``."""
        for job in await jobs.changing(self.manager, name, since=since):
            if self.kinds.touches(job.kind, part.name):
                return job.id
        return None

    async def _pause(self, part: WatchedComponent, name: str, job: int) -> CycleReport:
        """Nothing checked, repaired or recorded while job ``job`` changes the component."""
        paused = self._paused[part.name]
        if paused.get(name) != job:
            paused[name] = job
            log.info("watcher: %s of %s paused: job #%s changes it", part.name, name, job)
            await self._forget(part, name)  # what it kept may be what the job changes
            await store.mark_paused(self.manager, name, part.name, job)
        return CycleReport(name, utcnow(), True, component=part.name, paused_by=job)

    async def _forget(self, part: WatchedComponent, name: str) -> None:
        try:
            await part.forget(name)
        except Exception:  # closing must not stop the loop
            log.exception("watcher: closing %s of %s failed", part.name, name)

    async def _drop(self, part: WatchedComponent, name: str) -> None:
        self._held[part.name].discard(name)
        self._paused[part.name].pop(name, None)
        await self._forget(part, name)
        await store.release_lease(self.manager, lease_name(part.name, name), self.holder)

    async def _prune(self) -> None:
        if self._pruned is not None and time.monotonic() - self._pruned <= PRUNE_EVERY:
            return
        self._pruned = time.monotonic()  # before awaiting: one pruning at a time
        days = self.settings.monitor_retention_days
        await store.prune(self.manager, older_than=timedelta(days=days))
        await retention.prune(self.manager, retention.keep_of(self.settings), int(time.time()))


@contextlib.asynccontextmanager
async def _closing(cycles: AsyncIterator[Cycle]) -> AsyncIterator[AsyncIterator[Cycle]]:
    """A check left early (a timeout, a failed recording) is closed at once."""
    try:
        yield cycles
    finally:
        aclose = getattr(cycles, "aclose", None)
        if aclose is not None:
            await aclose()


class BackgroundWatch:
    """The watcher as a task of a long-running process (``clustermgr serve``)."""

    def __init__(
        self, manager: Manager, parts: Sequence[WatchedComponent], kinds: KindCatalog
    ) -> None:
        self.watcher = Watcher(manager, parts, kinds=kinds)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="watcher")

    async def _run(self) -> None:
        try:
            await self.watcher.run(self._stop)
        except Exception:  # never take the web app down; say why the watching stopped
            log.exception("watcher: stopped")

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the current cycles finish (cancel them after ``timeout``), release the leases."""
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.warning("watcher: did not stop within %g s: cancelled", timeout)
        finally:
            await self.watcher.close()
