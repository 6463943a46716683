"""A program kept running in one channel of an SSH connection (see :mod:`.stream`).

The channel holds one of the connection's session slots from its start until
:meth:`SshLineStream.close`.  Its standard error is read all along (unread, it
would fill the channel's window and stall the output too); its last bytes are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncssh

from clustermgr.errors import CommandTimeout, HostUnreachable, RemoteError
from clustermgr.remote.command import Command
from clustermgr.remote.hostkeys import failure_reason
from clustermgr.remote.stream import CHUNK, CLOSE_GRACE, LineBuffer, Tail

#: Seconds a program gets after it was killed before the channel is closed on it.
KILL_GRACE = 1.0

#: Seconds to wait for the rest of a program's standard error once its output ended.
STDERR_WAIT = 1.0

_SSH_PROCESS = asyncssh.SSHClientProcess[bytes]


class SshLineStream:
    """One running program's output, line by line (:class:`.stream.LineStream`)."""

    def __init__(
        self,
        host: str,
        command: Command,
        process: _SSH_PROCESS,
        *,
        lost: Callable[[Command, BaseException | None], HostUnreachable],
        connection_closed: Callable[[], bool],
        release: Callable[[], None],
        kill: Callable[[int], Awaitable[None]],
    ) -> None:
        self._host = host
        self._command = command
        self._process = process
        self._lost = lost
        self._connection_closed = connection_closed
        self._release = release
        self._kill = kill
        #: The program's process id on the server (its first line, see :meth:`start`).
        self._pid: int | None = None
        self._lines = LineBuffer(host)
        self._stderr = Tail()
        self._ended = False
        self._closed = False
        self._drain = asyncio.ensure_future(self._read_stderr())

    @property
    def host(self) -> str:
        return self._host

    @property
    def exit_status(self) -> int | None:
        return self._process.returncode

    @property
    def stderr_tail(self) -> str:
        return self._stderr.text()

    async def start(self, timeout: float) -> None:
        """Read the line the program's wrapper writes first: the program's process id."""
        first = await self.readline(timeout)
        if first is None or not first.isdigit():
            await asyncio.wait([self._drain], timeout=STDERR_WAIT)  # all it said
            shown = "nothing" if first is None else repr(first[:40])
            raise RemoteError(
                self._host,
                f"`{self._command.masked()}` did not start: its shell said {shown} "
                "instead of its process id",
                details=self.stderr_tail or None,
            )
        self._pid = int(first)

    async def readline(self, timeout: float) -> bytes | None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            line = self._lines.line()
            if line is not None:
                return line
            if self._ended:
                return self._lines.rest()
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await self._process.stdout.read(CHUNK)
            except TimeoutError:
                raise CommandTimeout(
                    self._host,
                    f"`{self._command.masked()}` wrote no line within {timeout:g} s",
                ) from None
            except (OSError, asyncssh.Error) as exc:
                raise self._failure(exc) from None
            if chunk:
                self._lines.feed(chunk)
                continue
            # The output ended: the program closed it, or the connection went away.
            if self._connection_closed() and self._process.returncode is None:
                raise self._lost(self._command, None)
            self._ended = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        process = self._process
        try:
            with contextlib.suppress(OSError, asyncssh.Error):
                process.stdin.write_eof()
            # Whatever the program still writes is read and dropped: a full window
            # would keep it from ending.
            discard = asyncio.ensure_future(_discard(process.stdout))
            try:
                if not await _ended(process, CLOSE_GRACE):
                    if self._pid is not None and not self._connection_closed():
                        await self._kill(self._pid)
                    if not await _ended(process, KILL_GRACE):
                        process.close()
                        await _ended(process, KILL_GRACE)
            finally:
                discard.cancel()
        finally:
            self._drain.cancel()
            self._release()

    def _failure(self, exc: BaseException) -> RemoteError:
        if self._connection_closed():
            return self._lost(self._command, exc)
        return RemoteError(self._host, f"`{self._command.masked()}`: {failure_reason(exc)}")

    async def _read_stderr(self) -> None:
        with contextlib.suppress(OSError, asyncssh.Error):
            while chunk := await self._process.stderr.read(CHUNK):
                self._stderr.add(chunk)


async def _ended(process: _SSH_PROCESS, seconds: float) -> bool:
    try:
        await asyncio.wait_for(process.wait_closed(), seconds)
    except TimeoutError:
        return False
    except (OSError, asyncssh.Error):
        pass
    return True


async def _discard(reader: asyncssh.SSHReader[bytes]) -> None:
    with contextlib.suppress(OSError, asyncssh.Error):
        while await reader.read(CHUNK):
            pass
