"""RememberingConnection on a real shell: reads answered from memory until anything
writes, on any host sharing the memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustermgr.errors import RemoteFileNotFound
from clustermgr.facts.base import Fact, gather
from clustermgr.remote.command import Command
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.remembering import ReadMemo, RememberingConnection


def counter(tmp_path: Path) -> Command:
    """A read that also counts how often it really ran (in a file beside it)."""
    return Command.script('echo x >> "$1"; wc -l < "$1"', str(tmp_path / "runs"))


async def test_a_read_is_answered_from_memory_until_a_write_on_any_host(tmp_path: Path) -> None:
    memo = ReadMemo()
    one = RememberingConnection(LocalConnection("one"), memo)
    two = RememberingConnection(LocalConnection("two"), memo)
    first = await one.read(counter(tmp_path))
    again = await one.read(counter(tmp_path))
    assert first.stdout.strip() == again.stdout.strip() == "1"
    other_host = await two.read(counter(tmp_path))
    assert other_host.stdout.strip() == "2", "memory is per host"
    await two.run(Command.of("true"))
    assert (await one.read(counter(tmp_path))).stdout.strip() == "3", "a write on two forgets one"
    await one.put(str(tmp_path / "f"), b"data")
    assert (await one.read(counter(tmp_path))).stdout.strip() == "4", "a file write forgets too"


async def test_a_failed_read_is_not_remembered(tmp_path: Path) -> None:
    conn = RememberingConnection(LocalConnection("one"), ReadMemo())
    flag = tmp_path / "flag"
    check = Command.of("test", "-e", str(flag))
    assert not (await conn.read(check)).ok
    flag.write_bytes(b"")
    assert (await conn.read(check)).ok


async def test_files_and_facts_are_reads(tmp_path: Path) -> None:
    conn = RememberingConnection(LocalConnection("one"), ReadMemo())
    path = tmp_path / "conf"
    with pytest.raises(RemoteFileNotFound):
        await conn.get(str(path))
    path.write_bytes(b"v1")
    with pytest.raises(RemoteFileNotFound):
        await conn.get(str(path))  # remembered as missing: nothing wrote through the run
    await conn.put(str(path), b"v2")
    assert await conn.get(str(path)) == b"v2"
    path.write_bytes(b"v3")
    assert await conn.get(str(path)) == b"v2", "remembered"
    fact = Fact("runs", counter(tmp_path), lambda out: int(out))
    assert await gather(conn, fact) == 1 and await gather(conn, fact) == 1
