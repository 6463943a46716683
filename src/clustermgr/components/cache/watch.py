"""The cache part of the watcher: read the chain, judge, repair, record (component "cache").

Runs inside :class:`clustermgr.monitor.watcher.Watcher`'s cycle for every
cluster whose cache chain was applied, under its own lease per cluster.
Repairs: a stunnel or twemproxy that is not running is restarted; a server
twemproxy keeps ejected while its Redis answers through the tunnel makes
twemproxy restart (its configuration validated first), which takes every
server back.  Redis itself is never restarted: a stopped Redis is an alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from clustermgr.components.cache.apply import cache_layout
from clustermgr.components.cache.findings import COMPONENT, RESTART_TWEMPROXY, Action, judge
from clustermgr.components.cache.model import NUTCRACKER_YML, CacheLayout
from clustermgr.components.cache.status import read_chain
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.monitor import store
from clustermgr.monitor.store import Cycle, Recorded
from clustermgr.remote.command import Command
from clustermgr.settings import Settings

log = logging.getLogger(__name__)

_RESTART = 'service "$1" stop >/dev/null 2>&1; service "$1" start >/dev/null'
#: twemproxy restarts only on a configuration it accepts (the running one stays otherwise).
_RESTART_TWEMPROXY = 'nutcracker -t -c "$1" >/dev/null 2>&1 || exit 3\n' + _RESTART.replace(
    '"$1"', "nutcracker"
)


def restart_command(action: Action) -> Command:
    if action.service == RESTART_TWEMPROXY:
        return Command.script(_RESTART_TWEMPROXY, NUTCRACKER_YML)
    return Command.script(_RESTART, action.service)


@dataclass
class CacheWatch:
    layout: CacheLayout
    access: HostAccess
    stale: dict[str, int] = field(default_factory=dict)


def lease(cluster: str) -> str:
    return f"{COMPONENT}:{cluster}"


async def open_watch(manager: Manager, cluster: str, settings: Settings) -> CacheWatch:
    layout = await cache_layout(manager, cluster)
    access = await open_access(manager, cluster, layout.hosts, settings=settings)
    return CacheWatch(layout, access)


async def check(
    manager: Manager, cluster: str, watch: CacheWatch, timeout: float
) -> tuple[Recorded, dict[str, Any]]:
    """One cycle: read the chain, repair what the verdict says, record it all.

    Returns the alerts opened and resolved, and the snapshot stored."""
    status = await read_chain(watch.access, cluster, watch.layout, timeout=timeout)
    verdict = judge(status, watch.layout, watch.stale)
    watch.stale = verdict.stale
    done = []
    for action in verdict.actions:
        done.append(
            {
                "host": action.host,
                "service": action.service,
                "why": action.why,
                "ok": await _run(watch.access, action, timeout),
            }
        )
    snapshot = {**status.as_dict(), "repairs": done}
    recorded = await store.record_cycle(
        manager,
        Cycle(cluster, COMPONENT, utcnow(), snapshot, verdict.measures, verdict.findings),
    )
    return recorded, snapshot


async def _run(access: HostAccess, action: Action, timeout: float) -> bool:
    try:
        conn = await access.connection(action.host)
        result = await conn.run(restart_command(action), timeout=max(timeout, 15.0))
    except ClustermgrError as exc:
        log.warning("cache repair on %s failed: %s", action.host, exc.message)
        return False
    if not result.ok:
        log.warning(
            "cache repair on %s: %s exited %s", action.host, action.service, result.exit_status
        )
    return result.ok


async def close(watch: CacheWatch, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watch.access.close(), timeout)
