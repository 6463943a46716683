"""Programs kept running on the manager's own machine and read line by line: what the
SSH streams do, without a server."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from clustermgr.errors import CommandTimeout, RemoteError
from clustermgr.remote.command import Command
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.stream import MAX_LINE, open_stream

ECHO = """
import sys
for line in sys.stdin:
    sys.stdout.write(line.upper())
    sys.stdout.flush()
sys.stdout.write("bye")
sys.exit(3)
"""


def python(program: str, *args: str) -> Command:
    return Command.of("python3", "-c", program, *args)


async def test_lines_come_as_written_and_stdin_eof_stops_the_program() -> None:
    lines = await open_stream(LocalConnection(), python(ECHO), b"one\ntwo\n")
    assert lines.host == "localhost"
    assert await lines.readline(10) == b"ONE"
    assert await lines.readline(10) == b"TWO"
    with pytest.raises(CommandTimeout, match=r"wrote no line within 0\.2 s"):
        await lines.readline(0.2)
    assert lines.exit_status is None
    await lines.close()
    assert lines.exit_status == 3


async def test_an_ended_program_gives_its_last_line_then_none() -> None:
    program = "import sys; print('a'); sys.stderr.write('trouble'); sys.stdout.write('b')"
    lines = await LocalConnection().stream(python(program))
    assert [await lines.readline(10) for _ in range(3)] == [b"a", b"b", None]
    await lines.close()
    assert lines.exit_status == 0
    assert lines.stderr_tail == "trouble"


async def test_a_line_over_the_limit_is_an_error() -> None:
    lines = await LocalConnection().stream(
        python(f"import sys; sys.stdout.write('x' * {MAX_LINE + 1})")
    )
    try:
        with pytest.raises(RemoteError, match="longer than"):
            while await lines.readline(30) is not None:
                pass
    finally:
        await lines.close()


async def test_close_ends_a_silent_program_that_ignores_stdin_and_its_children() -> None:
    mark = uuid.uuid4().hex
    script = f"sleep 61.{int(mark[:6], 16)} & echo $!; wait"
    lines = await LocalConnection().stream(Command.script(script))
    child = int(await lines.readline(10) or b"0")
    started = time.monotonic()
    await lines.close()
    assert time.monotonic() - started < 10
    assert lines.exit_status is not None and lines.exit_status < 0, "killed"
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(child, 0)
            time.sleep(0.1)
