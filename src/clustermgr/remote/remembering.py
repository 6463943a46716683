"""Connections that remember what they read until anything writes.

A deploy runs one stage after another over the same connections, and every stage's
planner reads some of the same facts (the OS release, the platform, files).  Within
such a run, :class:`RememberingConnection` answers a read it made before from memory,
as long as nothing was written since on *any* host of the run: one :class:`ReadMemo`
serves them all, and every command that is not a declared read (and every file write)
forgets everything.  A change on one host can show on another (LDAP replicates), so
forgetting is never per host.

Only reads go through :meth:`RememberingConnection.read`: facts (see
:func:`clustermgr.facts.base.gather`), the executor's probes and file reads.  A read
that failed is not remembered.  Outside a run (the watchers, a single apply) no memory
exists and every read goes to the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from clustermgr.errors import RemoteFileNotFound
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.result import Result


@dataclass
class ReadMemo:
    """What the connections of one run read, by host and request; ``writes`` counts the
    times it forgot, so a read that overlapped a write is not kept."""

    answers: dict[tuple[str, str], Result | bytes | None] = field(default_factory=dict)
    writes: int = 0

    def forget(self) -> None:
        self.answers.clear()
        self.writes += 1


class RememberingConnection:
    """A :class:`Connection` sharing a :class:`ReadMemo` with the run's other hosts."""

    def __init__(self, connection: Connection, memo: ReadMemo) -> None:
        self._connection = connection
        self._memo = memo

    @property
    def host(self) -> str:
        return self._connection.host

    def remembers(self, command: Command) -> bool:
        return self._key(command) in self._memo.answers

    def _key(self, command: Command) -> tuple[str, str]:
        # The rendered text (secrets included) stays in memory as a key, never shown.
        stdin = command.stdin_bytes()
        return self.host, command.render() + ("" if stdin is None else f"\0{stdin!r}")

    async def read(self, command: Command, *, timeout: float | None = None) -> Result:
        """``command`` is a read: answered from memory when nothing wrote since."""
        key = self._key(command)
        known = self._memo.answers.get(key)
        if isinstance(known, Result):
            return known
        writes = self._memo.writes
        result = await self._connection.run(command, timeout=timeout)
        if result.ok and writes == self._memo.writes:
            self._memo.answers[key] = result
        return result

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        """Any command may change state: everything remembered is forgotten."""
        self._memo.forget()
        try:
            return await self._connection.run(command, timeout=timeout)
        finally:
            self._memo.forget()

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        self._memo.forget()
        try:
            await self._connection.put(path, data, mode=mode)
        finally:
            self._memo.forget()

    async def get(self, path: str) -> bytes:
        """Reading a file is a read: a file read before (or found missing) is remembered."""
        key = (self.host, f"\0get\0{path}")
        if key in self._memo.answers:
            known = self._memo.answers[key]
            if known is None:
                raise RemoteFileNotFound(self.host, f"{path} does not exist")
            if isinstance(known, bytes):
                return known
        writes = self._memo.writes
        try:
            data = await self._connection.get(path)
        except RemoteFileNotFound:
            if writes == self._memo.writes:
                self._memo.answers[key] = None
            raise
        if writes == self._memo.writes:
            self._memo.answers[key] = data
        return data

    async def close(self) -> None:
        await self._connection.close()


@runtime_checkable
class Reads(Protocol):
    """A connection that tells reads from other commands."""

    async def read(self, command: Command, *, timeout: float | None = None) -> Result: ...


async def read(conn: Connection, command: Command, *, timeout: float | None = None) -> Result:
    """Run a read-only ``command``: from memory on a remembering connection."""
    if isinstance(conn, Reads):
        return await conn.read(command, timeout=timeout)
    return await conn.run(command, timeout=timeout)
