"""What every connection to a server offers, real (SSH) or scripted (tests)."""

from __future__ import annotations

from typing import Protocol

from clustermgr.remote.command import Command
from clustermgr.remote.result import Result


class Connection(Protocol):
    """An open channel to one server.

    ``run`` never raises for a non-zero exit status (the result carries it; call
    ``result.check()`` to insist on success). It raises :class:`RemoteError`
    subclasses when the server cannot be reached or the command times out.
    """

    @property
    def host(self) -> str: ...

    async def run(self, command: Command, *, timeout: float | None = None) -> Result: ...

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Write ``data`` to ``path`` (not atomically: the executor makes it atomic)."""
        ...

    async def get(self, path: str) -> bytes:
        """Read ``path``; :class:`RemoteFileNotFound` when it does not exist."""
        ...

    async def close(self) -> None: ...
