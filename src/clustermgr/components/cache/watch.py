"""The cache part of the watcher: read the chain, judge, repair, record (component "cache").

The watcher (:mod:`clustermgr.monitor.watcher`) checks every cluster whose
cache chain was applied, under the lease ``cache:CLUSTER``.
Repairs: a stunnel or twemproxy that is not running is restarted; a server
twemproxy keeps ejected while its Redis answers through the tunnel makes
twemproxy restart (its configuration validated first), which takes every
server back.  Redis itself is never restarted: a stopped Redis is an alert.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from clustermgr.components.cache.desired import cache_clusters, cache_layout
from clustermgr.components.cache.findings import COMPONENT, RESTART_TWEMPROXY, Action, judge
from clustermgr.components.cache.model import NUTCRACKER_YML, CacheLayout
from clustermgr.components.cache.standby import restart_with_standby
from clustermgr.components.cache.status import read_chain
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.facts.services import ServiceControl
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access
from clustermgr.remote.command import Command
from clustermgr.settings import Settings

log = logging.getLogger(__name__)

_RESTART = 'svc_restart "$1" >/dev/null'
#: twemproxy restarts only on a configuration it accepts (the running one stays otherwise).
_ACCEPTED = 'nutcracker -t -c "$1" >/dev/null 2>&1 || exit 3'


def restart_command(action: Action, services: ServiceControl) -> Command:
    """The repair, through the host's init system."""
    if action.service == RESTART_TWEMPROXY:
        accepted = Command.script(_ACCEPTED, NUTCRACKER_YML)
        return accepted.then(restart_with_standby(services))
    return services.script(_RESTART, action.service)


@dataclass
class _ClusterWatch:
    layout: CacheLayout
    access: HostAccess
    stale: dict[str, int] = field(default_factory=dict)


class CacheWatch:
    """The ``cache`` component of the watcher."""

    name = COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self._watches: dict[str, _ClusterWatch] = {}

    def interval(self, settings: Settings) -> float:
        return settings.watch_interval

    async def clusters(self) -> list[str]:
        return await cache_clusters(self.manager)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        """Read the chain, repair what the verdict says; the cycle holds it all."""
        watch = self._watches.get(cluster)
        if watch is None:
            layout = await cache_layout(self.manager, cluster)
            settings = check_settings(self.settings)
            access = await open_access(self.manager, cluster, layout.hosts, settings=settings)
            watch = self._watches[cluster] = _ClusterWatch(layout, access)
        timeout = self.settings.watch_timeout
        status = await read_chain(watch.access, cluster, watch.layout, timeout=timeout)
        verdict = judge(status, watch.layout, watch.stale)
        watch.stale = verdict.stale
        done = [
            {
                "host": action.host,
                "service": action.service,
                "why": action.why,
                "ok": await _run(watch.access, action, timeout),
            }
            for action in verdict.actions
        ]
        snapshot = {**status.as_dict(), "repairs": done}
        yield Cycle(cluster, COMPONENT, utcnow(), snapshot, verdict.measures, verdict.findings)

    async def forget(self, cluster: str) -> None:
        watch = self._watches.pop(cluster, None)
        if watch is not None:
            await close_access(watch.access, self.settings.watch_timeout)

    async def close(self) -> None:
        for name in list(self._watches):
            await self.forget(name)


async def _run(access: HostAccess, action: Action, timeout: float) -> bool:
    try:
        conn = await access.connection(action.host)
        services = (await access.platform(action.host)).services
        result = await conn.run(restart_command(action, services), timeout=max(timeout, 15.0))
    except ClustermgrError as exc:
        log.warning("cache repair on %s failed: %s", action.host, exc.message)
        return False
    if not result.ok:
        log.warning(
            "cache repair on %s: %s exited %s", action.host, action.service, result.exit_status
        )
    return result.ok
