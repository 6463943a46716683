"""What the watcher loop asks of a component it watches, and helpers its checks share.

A component's part of the watcher (:class:`WatchedComponent`) says which clusters
it watches (one store query), checks one cluster (yielding the cycles to record)
and closes what it opened.  The loop (:mod:`clustermgr.monitor.watcher`) owns
the rest: leases, timeouts, recording, logging and the pace.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from clustermgr.core.access import HostAccess
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings


class WatchedComponent(Protocol):
    """A component's part of the watcher (see :mod:`clustermgr.monitor.watcher`)."""

    #: The component's name: its alerts, samples and leases (``NAME:CLUSTER``) carry it.
    name: str

    def interval(self, settings: Settings) -> float:
        """Seconds between two checks of a cluster (start to start)."""
        ...

    async def clusters(self) -> list[str]:
        """The clusters it watches now: one store query, no SSH."""
        ...

    def check(self, cluster: str) -> AsyncIterator[Cycle]:
        """Check ``cluster``; each cycle yielded is recorded before the check goes on."""
        ...

    async def forget(self, cluster: str) -> None:
        """Close the cluster's connections and drop what was kept about it."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...


def check_settings(settings: Settings) -> Settings:
    """The settings a watcher's connections use: its short timeouts."""
    timeout = settings.watch_timeout
    return settings.model_copy(update={"connect_timeout": timeout, "command_timeout": timeout})


async def close_access(access: HostAccess, timeout: float) -> None:
    """Close a cluster's connections; one to a host that vanished must not hang here."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(access.close(), timeout)


async def forget_host(access: HostAccess, host: str) -> None:
    """Drop a connection that failed or hangs; closing a dead one must not hang too."""
    with contextlib.suppress(Exception, TimeoutError):
        await asyncio.wait_for(access.discard(host), 1.0)
