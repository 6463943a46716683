"""Programs kept running on a server and read line by line, against real sshd servers."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from clustermgr.errors import CommandTimeout, HostUnreachable, RemoteError
from clustermgr.remote.command import Command
from clustermgr.remote.ssh import SshConnection
from clustermgr.remote.stream import MAX_LINE, open_stream
from polling import eventually
from sshd import Connect, SshdHost

pytestmark = pytest.mark.integration

#: Kill the nearest sshd up the process tree: the one serving this connection.
KILL_OWN_SSHD = """
p=$$
while [ "${p:-0}" -gt 1 ] && [ "$(ps -o comm= -p "$p")" != sshd ]; do
    p=$(ps -o ppid= -p "$p" | tr -d ' ')
done
[ "${p:-0}" -gt 1 ] && kill -9 "$p"
"""

#: Echoes every stdin line back upper-cased, then says goodbye at EOF and exits 3.
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


async def running(ssh: SshConnection, mark: str) -> bool:
    listing = (await ssh.run(Command.of("ps", "-eo", "args="))).check().stdout
    return any(mark in line for line in listing.splitlines())


async def test_lines_come_as_written_and_stdin_eof_stops_the_program(ssh: SshConnection) -> None:
    lines = await ssh.stream(python(ECHO), b"one\ntwo\n")
    try:
        assert await lines.readline(10) == b"ONE"
        assert await lines.readline(10) == b"TWO"
        assert lines.exit_status is None
    finally:
        await lines.close()
    assert lines.exit_status == 3


async def test_the_output_ends_with_its_last_line_then_none(ssh: SshConnection) -> None:
    lines = await open_stream(ssh, python(ECHO), b"x\n")
    await asyncio.sleep(0)
    assert await lines.readline(10) == b"X"
    # stdin stays open: the program waits for more, so no line comes.
    with pytest.raises(CommandTimeout, match=r"wrote no line within 0\.5 s"):
        await lines.readline(0.5)
    await lines.close()
    assert await lines.readline(1) in (b"bye", None)  # what close() did not drop


async def test_an_ended_program_gives_its_last_line_none_and_its_status(
    ssh: SshConnection,
) -> None:
    program = "import sys; print('a'); sys.stderr.write('trouble'); sys.stdout.write('b')"
    lines = await ssh.stream(Command.script(f'python3 -c "{program}"; exit 5'))
    try:
        assert await lines.readline(10) == b"a"
        assert await lines.readline(10) == b"b"
        assert await lines.readline(10) is None
        assert await lines.readline(10) is None
    finally:
        await lines.close()
    assert lines.exit_status == 5
    assert lines.stderr_tail == "trouble"


async def test_long_lines_arrive_whole(ssh: SshConnection) -> None:
    program = "import sys\nfor n in (3, 5):\n    sys.stdout.write(str(n) * (n << 20) + '\\n')"
    lines = await ssh.stream(python(program))
    try:
        assert await lines.readline(30) == b"3" * (3 << 20)
        assert await lines.readline(30) == b"5" * (5 << 20)
        assert await lines.readline(30) is None
    finally:
        await lines.close()


async def test_a_line_over_the_limit_is_an_error(ssh: SshConnection) -> None:
    program = f"import sys; sys.stdout.write('x' * {MAX_LINE + 10})"
    lines = await ssh.stream(python(program))
    try:
        with pytest.raises(RemoteError, match="longer than"):
            while await lines.readline(30) is not None:
                pass
    finally:
        await lines.close()


async def test_close_ends_a_program_that_ignores_stdin(ssh: SshConnection) -> None:
    mark = f"ignores-{uuid.uuid4().hex}"
    program = "import sys, time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.1)"
    lines = await ssh.stream(python(program, mark))
    assert await lines.readline(10) == b"tick"
    assert await running(ssh, mark)
    started = time.monotonic()
    await lines.close()
    assert time.monotonic() - started < 10
    await lines.close()  # idempotent

    async def gone() -> bool:
        return not await running(ssh, mark)

    await eventually(gone, timeout=10, what=f"{mark} still runs")
    # Its session slot is free again: the connection runs as many commands as before.
    results = await asyncio.gather(*(ssh.run(Command.of("true")) for _ in range(12)))
    assert all(r.ok for r in results)


async def test_streams_go_through_the_prefix(ssh: SshConnection) -> None:
    ssh.set_prefix(("env", "CM_MARK=prefixed"))
    try:
        lines = await ssh.stream(Command.of("printenv", "CM_MARK"))
    finally:
        ssh.set_prefix(())
    try:
        assert await lines.readline(10) == b"prefixed"
    finally:
        await lines.close()


async def test_a_lost_connection_is_host_unreachable(node: SshdHost, open_ssh: Connect) -> None:
    connection = await open_ssh(node)
    try:
        program = "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.2)"
        lines = await connection.stream(python(program))
        assert await lines.readline(10) == b"tick"
        with pytest.raises(HostUnreachable):
            await connection.run(Command.script(KILL_OWN_SSHD))
        with pytest.raises(HostUnreachable, match="lost the SSH connection"):
            while True:
                await lines.readline(10)
        await lines.close()
        await connection.close()
        with pytest.raises(HostUnreachable, match="is closed"):
            await connection.stream(python(program))
    finally:
        await connection.close()


async def test_a_connection_without_streams_says_so() -> None:
    class Plain:
        host = "plain"

    with pytest.raises(RemoteError, match="cannot keep a program running"):
        await open_stream(Plain(), Command.of("true"))  # type: ignore[arg-type]


async def test_close_ends_a_silent_program_that_ignores_stdin(ssh: SshConnection) -> None:
    mark = f"silent-{uuid.uuid4().hex}"
    lines = await ssh.stream(python("import time\nprint('up', flush=True)\ntime.sleep(60)", mark))
    assert await lines.readline(10) == b"up"
    started = time.monotonic()
    await lines.close()
    assert time.monotonic() - started < 10

    async def gone() -> bool:
        return not await running(ssh, mark)

    await eventually(gone, timeout=10, what=f"{mark} still runs")


async def test_a_program_whose_prefix_fails_did_not_start(ssh: SshConnection) -> None:
    ssh.set_prefix(("sh", "-c", "echo 'no sudo here' >&2; exit 1"))
    try:
        with pytest.raises(RemoteError, match="did not start: its shell said nothing") as caught:
            await ssh.stream(Command.of("echo", "never"))
    finally:
        ssh.set_prefix(())
    assert caught.value.details == "no sudo here\n"
    # Its session slot was given back.
    results = await asyncio.gather(*(ssh.run(Command.of("true")) for _ in range(12)))
    assert all(r.ok for r in results)


async def test_a_refused_command_does_not_wait_for_streams_to_end(
    node: SshdHost, open_ssh: Connect
) -> None:
    # sshd's 10 slots are all held by streams, which end only when closed: a command
    # refused a channel gives up as it does with none of ours open, instead of waiting.
    connection = await open_ssh(node, max_sessions=16)
    program = "import sys\nprint('up', flush=True)\nsys.stdin.read()"
    streams = [await connection.stream(python(program)) for _ in range(10)]
    try:
        for lines in streams:
            assert await lines.readline(10) == b"up"
        async with asyncio.timeout(30):
            with pytest.raises(HostUnreachable, match="refused a session"):
                await connection.run(Command.of("true"))
        await streams.pop().close()
        assert (await connection.run(Command.of("echo", "a slot"))).stdout == "a slot\n"
    finally:
        for lines in streams:
            await lines.close()
        await connection.close()
