"""Open connections once per host, and run work on many hosts without losing any result.

The pool knows nothing about SSH: it takes a factory (host name -> open
connection), so services and tests can hand it real or scripted connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

from clustermgr.remote.connection import Connection

T = TypeVar("T")

ConnectionFactory = Callable[[str], Awaitable[Connection]]


class ConnectionPool:
    """Lazily opened, cached connections: at most one per host.

    Concurrent callers asking for the same host wait for the one connection
    being opened instead of each opening their own (a per-host lock), while
    different hosts connect in parallel.  A host whose connection failed to open
    is tried again on the next :meth:`get`.
    """

    def __init__(self, factory: ConnectionFactory) -> None:
        self._factory = factory
        self._connections: dict[str, Connection] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, host: str) -> Connection:
        connection = self._connections.get(host)
        if connection is not None:
            return connection
        async with self._locks.setdefault(host, asyncio.Lock()):
            connection = self._connections.get(host)
            if connection is None:
                connection = await self._factory(host)
                self._connections[host] = connection
            return connection

    async def discard(self, host: str) -> None:
        """Close and forget ``host``'s connection (after it dropped), so the next get reconnects."""
        connection = self._connections.pop(host, None)
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        """Close every connection; one failing to close does not keep the others open."""
        connections = list(self._connections.values())
        self._connections.clear()
        results = await asyncio.gather(
            *(connection.close() for connection in connections), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


@dataclass(frozen=True)
class HostResults(Generic[T]):
    """What ``fn`` returned per host, and what it raised per host: never one without the other."""

    succeeded: dict[str, T]
    failed: dict[str, BaseException]

    @property
    def ok(self) -> bool:
        return not self.failed


async def run_on_hosts(
    hosts: Sequence[str],
    fn: Callable[[str], Awaitable[T]],
    *,
    limit: int = 20,
) -> HostResults[T]:
    """Run ``fn(host)`` for every host, at most ``limit`` at a time.

    An exception from one host is recorded under that host and the others carry
    on.  Cancellation is not an error of one host: it propagates (and cancels
    the rest).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    semaphore = asyncio.Semaphore(limit)
    succeeded: dict[str, T] = {}
    failed: dict[str, BaseException] = {}

    async def one(host: str) -> None:
        async with semaphore:
            try:
                succeeded[host] = await fn(host)
            except Exception as exc:
                failed[host] = exc

    async with asyncio.TaskGroup() as group:
        for host in dict.fromkeys(hosts):
            group.create_task(one(host))
    # Report hosts in the order they were given, not the order they finished.
    order = {host: index for index, host in enumerate(hosts)}
    return HostResults(
        succeeded=dict(sorted(succeeded.items(), key=lambda item: order[item[0]])),
        failed=dict(sorted(failed.items(), key=lambda item: order[item[0]])),
    )
