"""A made-up watched component for the watcher loop's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from clustermgr.db.base import utcnow
from clustermgr.monitor.alerts import Finding
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings


@dataclass
class Fake:
    """A watched component whose clusters, findings and slowness the test sets."""

    name: str = "fake"
    watched: list[str] = field(default_factory=lambda: ["a", "b"])
    findings: list[Finding] = field(default_factory=list)
    every: float = 0.05
    #: Seconds a check hangs before its first cycle.
    hang: float = 0.0
    checked: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    closed: bool = False
    #: The "repairs" its checks made (one per check that found something down).
    repaired: list[str] = field(default_factory=list)
    #: Run by a check after its "repair", before its first cycle (something happening
    #: while it checks).
    midway: Callable[[], Awaitable[object]] | None = None

    def interval(self, settings: Settings) -> float:
        return self.every

    async def clusters(self) -> list[str]:
        return list(self.watched)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        self.checked.append(cluster)
        await asyncio.sleep(self.hang)
        if self.findings:
            self.repaired.append(cluster)
        if self.midway is not None:
            await self.midway()
        yield Cycle(cluster, self.name, utcnow(), {"step": 1}, (), self.findings)
        yield Cycle(cluster, self.name, utcnow(), {"step": 2}, (), [], judged=[])

    async def forget(self, cluster: str) -> None:
        self.forgotten.append(cluster)

    async def close(self) -> None:
        self.closed = True
