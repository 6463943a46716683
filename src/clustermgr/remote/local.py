"""A connection to the machine clustermgr itself runs on, without SSH.

It runs the same :class:`Command` values through ``/bin/sh`` with the same
semantics as :class:`~clustermgr.remote.ssh.SshConnection` (exit status in the
result, timeouts that kill the command, files through ``run``), so code that
works on it works over SSH.  Tests use it to exercise the executor's file
handling on a real filesystem in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

from clustermgr.errors import CommandTimeout, RemoteError
from clustermgr.remote.command import Command
from clustermgr.remote.files import get_file, put_file
from clustermgr.remote.forward import read_to_end
from clustermgr.remote.localstream import LocalLineStream
from clustermgr.remote.result import Result


class LocalConnection:
    def __init__(self, host: str = "localhost", *, command_timeout: float = 300.0) -> None:
        self._host = host
        self.command_timeout = command_timeout

    @property
    def host(self) -> str:
        return self._host

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        started = time.monotonic()
        stdin = command.stdin_bytes()
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command.render(),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills it all
        )
        limit = timeout if timeout is not None else self.command_timeout
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin), limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise CommandTimeout(
                self._host, f"`{command}` did not finish within {limit:g} s"
            ) from None
        return Result(
            host=self._host,
            command=command,
            exit_status=proc.returncode,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
            duration=time.monotonic() - started,
        )

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        await put_file(self, path, data, mode)

    async def get(self, path: str) -> bytes:
        return await get_file(self, path)

    async def stream(self, command: Command, stdin: bytes = b"") -> LocalLineStream:
        """Start ``command`` with ``stdin`` written and kept open: its output line by
        line (:mod:`.stream`)."""
        return await LocalLineStream.start(self._host, command, stdin)

    async def exchange(self, port: int, request: bytes, *, timeout: float) -> bytes:
        """``request`` to this machine's ``127.0.0.1:port``; the answer until it closes."""
        what = f"127.0.0.1:{port}"
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                try:
                    writer.write(request)
                    return await read_to_end(reader)
                finally:
                    writer.close()
        except TimeoutError:
            raise CommandTimeout(
                self._host, f"{what} did not answer within {timeout:g} s"
            ) from None
        except OSError as exc:
            raise RemoteError(self._host, f"{what}: {exc.strerror or exc}") from None

    async def close(self) -> None:
        return None
