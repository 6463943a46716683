"""Turn-taking for steps that restart services: one host at a time, in host order."""

from __future__ import annotations

import asyncio
from collections import Counter

from clustermgr.plan.model import Plan


class RollingTurns:
    """Hosts take turns per rolling group; the roll stops at the first failure."""

    def __init__(self, plan: Plan) -> None:
        self._order: dict[str, list[str]] = {}
        self._remaining: Counter[tuple[str, str]] = Counter()
        for step in plan.steps:
            if step.rolling_group is None:
                continue
            hosts = self._order.setdefault(step.rolling_group, [])
            if step.host not in hosts:
                hosts.append(step.host)
            self._remaining[(step.rolling_group, step.host)] += 1
        self._done = {key: asyncio.Event() for key in self._remaining}
        self._failed: set[str] = set()

    async def wait_turn(self, group: str, host: str) -> None:
        for earlier in self._order[group]:
            if earlier == host:
                return
            await self._done[(group, earlier)].wait()

    def failed(self, group: str) -> bool:
        return group in self._failed

    def step_done(self, group: str, host: str, *, failed: bool) -> None:
        if failed:
            self._failed.add(group)
        key = (group, host)
        self._remaining[key] -= 1
        if self._remaining[key] <= 0:
            self._done[key].set()

    def host_done(self, host: str) -> None:
        """Release every turn this host still holds, whatever ended it."""
        for (group, h), event in self._done.items():
            if h == host and not event.is_set():
                self._failed.add(group)
                event.set()
