"""The signing keys' part of the watcher: the rotation schedule.

At each of the watcher's checks (``watch_interval``), each cluster whose keystore
is sealed is looked at in the inventory (no SSH): when its ``rotate_every_days`` is
set and a rotation is due (the last one finished that many days ago, none was ever
made by the manager, or one is in progress and stopped), a ``keys-rotate`` job is
started, requested by
:data:`SCHEDULER`.  It runs where the manager's jobs run (the queue when one is set,
else in the watcher's own process).  A start that fails (another job changes the
cluster) is tried again at the next check; a started job is not started again for
:data:`RETRY` seconds, so a rotation that keeps failing is not retried every minute.
While a rotation runs, the watcher leaves this part alone (the job touches it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from clustermgr.auth.roles import UserRole
from clustermgr.components.keys.jobs import ROTATE_KIND
from clustermgr.components.keys.status import next_due
from clustermgr.components.keys.store import COMPONENT, keys_state, sealed_clusters
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.jobs import service as jobs
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.runner import EmbeddedRunner, Runner
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings

#: Seconds before a scheduled rotation that was started is started again.
RETRY = 15 * 60.0
#: Who the audit trail and the job list name for a scheduled rotation.
SCHEDULER = "scheduler"


def _own_kinds() -> KindCatalog:
    from clustermgr.components.keys.component import COMPONENT as KEYS

    return KindCatalog(KEYS.job_kinds())


class KeysWatch:
    """The ``keys`` component of the watcher: starts scheduled rotations."""

    name = COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self._runner: Runner | None = None
        #: Cluster -> when (monotonic) the schedule last started its rotation.
        self._started: dict[str, float] = {}

    def interval(self, settings: Settings) -> float:
        # A look at the inventory: as often as the watcher checks anything.
        return settings.watch_interval

    async def clusters(self) -> list[str]:
        return await sealed_clusters(self.manager)

    def runner(self) -> Runner:
        if self._runner is None:
            kinds = _own_kinds()
            url = self.manager.settings.queue_url
            if url:
                from clustermgr.jobs.queue import QueueRunner

                self._runner = QueueRunner(url, kinds)
            else:
                self._runner = EmbeddedRunner(self.manager, kinds)
        return self._runner

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        now = utcnow()
        state = await keys_state(self.manager, cluster)
        due = next_due(state, now)
        snapshot: dict[str, Any] = {
            "rotate_every_days": state.settings.rotate_every_days,
            "next_due": due.isoformat(timespec="seconds") if due else None,
            "rotation": state.rotation.as_dict() if state.rotation else None,
            "started_job": None,
        }
        recent = time.monotonic() - self._started.get(cluster, -RETRY) < RETRY
        if due is not None and due <= now and not recent:
            try:
                job = await jobs.submit(
                    self.manager,
                    self.runner(),
                    kind_name=ROTATE_KIND,
                    cluster=cluster,
                    user=SCHEDULER,
                    as_role=UserRole.ADMIN,
                )
            except ClustermgrError as exc:
                snapshot["error"] = exc.message
            else:
                self._started[cluster] = time.monotonic()
                snapshot["started_job"] = job.id
        yield Cycle(cluster, COMPONENT, now, snapshot)

    async def forget(self, cluster: str) -> None:
        self._started.pop(cluster, None)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.close()
            self._runner = None
