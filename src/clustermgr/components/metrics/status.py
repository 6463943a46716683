"""The metrics sources of a cluster now: one scrape of every server, nothing stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from clustermgr.components.metrics.scrape import HostScrape, scrape_host
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager


@dataclass(frozen=True)
class MetricsStatus:
    cluster: str
    hosts: tuple[HostScrape, ...]

    @property
    def ok(self) -> bool:
        """Every server answered and every one of its sources gave readings."""
        return all(h.unreachable is None and not h.errors for h in self.hosts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "ok": self.ok,
            "hosts": {
                h.host: {
                    "reachable": h.unreachable is None,
                    "error": h.unreachable,
                    "readings": len(h.readings),
                    "errors": h.errors,
                }
                for h in self.hosts
            },
        }


async def status(manager: Manager, cluster: str) -> MetricsStatus:
    """Read every source of every server of ``cluster`` once."""
    timeout = manager.settings.watch_timeout
    async with await open_access(manager, cluster) as access:
        scraped = await asyncio.gather(
            *(scrape_host(access, s, timeout) for s in access.servers.values())
        )
    return MetricsStatus(cluster, tuple(scraped))
