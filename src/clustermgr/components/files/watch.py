"""The cluster files' part of the watcher: one digest command per node per cycle.

Every ``watch_files_interval`` seconds, each cluster whose files are sealed: every
node's digests against the sealed copies; a file that differs or is missing opens
``file-drift:HOST:PATH`` (critical), resolved once the node holds the sealed copy
again (``files apply``).  A node that does not answer leaves its alerts as they are.
The watcher repairs nothing here: which copy is right is a person's call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from clustermgr.components.files.desired import Desired, desired, sealed_clusters
from clustermgr.components.files.findings import judge
from clustermgr.components.files.model import COMPONENT
from clustermgr.components.files.status import FilesStatus, read_nodes, sealed_digests
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access
from clustermgr.settings import Settings


@dataclass
class _ClusterWatch:
    nodes: tuple[str, ...]
    access: HostAccess


class FilesWatch:
    """The ``files`` component of the watcher."""

    name = COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self._watches: dict[str, _ClusterWatch] = {}

    def interval(self, settings: Settings) -> float:
        return settings.watch_files_interval

    async def clusters(self) -> list[str]:
        return await sealed_clusters(self.manager)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        want = await desired(self.manager, cluster)
        access = await self._access(cluster, want)
        nodes = await read_nodes(access, want, timeout=self.settings.watch_timeout)
        verdict = judge(nodes, list(want.sealed or {}))
        snapshot = FilesStatus(cluster, sealed_digests(want), nodes).as_dict()
        snapshot.pop("open_alerts")
        yield Cycle(cluster, COMPONENT, utcnow(), snapshot, (), verdict.findings, verdict.unknown)

    async def _access(self, cluster: str, want: Desired) -> HostAccess:
        nodes = tuple(want.nodes)
        watch = self._watches.get(cluster)
        if watch is not None and watch.nodes != nodes:
            await self.forget(cluster)
            watch = None
        if watch is None:
            settings = check_settings(self.settings)
            access = await open_access(self.manager, cluster, nodes, settings=settings)
            watch = self._watches[cluster] = _ClusterWatch(nodes, access)
        return watch.access

    async def forget(self, cluster: str) -> None:
        watch = self._watches.pop(cluster, None)
        if watch is not None:
            await close_access(watch.access, self.settings.watch_timeout)

    async def close(self) -> None:
        for name in list(self._watches):
            await self.forget(name)
