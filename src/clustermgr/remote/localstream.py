"""A program kept running on the manager's own machine (see :mod:`.stream`), for
:class:`~clustermgr.remote.local.LocalConnection`: the same lines, timeouts and close
as over SSH, without a server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from clustermgr.errors import CommandTimeout
from clustermgr.remote.command import Command
from clustermgr.remote.stream import CHUNK, CLOSE_GRACE, LineBuffer, Tail


class LocalLineStream:
    """One running local program's output, line by line (:class:`.stream.LineStream`)."""

    def __init__(self, host: str, command: Command, process: asyncio.subprocess.Process) -> None:
        assert process.stdin and process.stdout and process.stderr  # all three are pipes
        self._host = host
        self._command = command
        self._process = process
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._stderr_pipe = process.stderr
        self._lines = LineBuffer(host)
        self._stderr = Tail()
        self._ended = False
        self._closed = False
        self._drain = asyncio.ensure_future(self._read_stderr())

    @classmethod
    async def start(cls, host: str, command: Command, stdin: bytes) -> LocalLineStream:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command.render(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: close() stops it all
        )
        lines = cls(host, command, process)
        with contextlib.suppress(OSError):  # it ended before reading: its output says why
            lines._stdin.write(stdin)
            await lines._stdin.drain()
        return lines

    @property
    def host(self) -> str:
        return self._host

    @property
    def exit_status(self) -> int | None:
        return self._process.returncode

    @property
    def stderr_tail(self) -> str:
        return self._stderr.text()

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
                    chunk = await self._stdout.read(CHUNK)
            except TimeoutError:
                raise CommandTimeout(
                    self._host,
                    f"`{self._command.masked()}` wrote no line within {timeout:g} s",
                ) from None
            if chunk:
                self._lines.feed(chunk)
            else:
                self._ended = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._stdin.close()
        discard = asyncio.ensure_future(self._discard())
        try:
            try:
                await asyncio.wait_for(self._process.wait(), CLOSE_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                await self._process.wait()
        finally:
            discard.cancel()
            self._drain.cancel()

    async def _discard(self) -> None:
        while await self._stdout.read(CHUNK):
            pass

    async def _read_stderr(self) -> None:
        while chunk := await self._stderr_pipe.read(CHUNK):
            self._stderr.add(chunk)
