"""A connection that counts its round trips and the time they take."""

from __future__ import annotations

import time

from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.remembering import RememberingConnection, read
from clustermgr.remote.result import Result


class MeteredConnection:
    """Wraps a :class:`Connection`: each command, file read and file write is one
    round trip, timed from sending it to its end (failed ones count too); a read the
    connection answers from memory is none."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.round_trips = 0
        self.seconds = 0.0

    @property
    def host(self) -> str:
        return self._connection.host

    def _count(self, started: float) -> None:
        self.round_trips += 1
        self.seconds += time.monotonic() - started

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        started = time.monotonic()
        try:
            return await self._connection.run(command, timeout=timeout)
        finally:
            self._count(started)

    async def read(self, command: Command, *, timeout: float | None = None) -> Result:
        """A read-only command: one round trip, unless the connection remembers it."""
        inner = self._connection
        if isinstance(inner, RememberingConnection) and inner.remembers(command):
            return await inner.read(command, timeout=timeout)
        started = time.monotonic()
        try:
            return await read(inner, command, timeout=timeout)
        finally:
            self._count(started)

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        started = time.monotonic()
        try:
            await self._connection.put(path, data, mode=mode)
        finally:
            self._count(started)

    async def get(self, path: str) -> bytes:
        started = time.monotonic()
        try:
            return await self._connection.get(path)
        finally:
            self._count(started)

    async def close(self) -> None:
        await self._connection.close()
