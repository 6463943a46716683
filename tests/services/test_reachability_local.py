"""The whole reachability check on this machine, inside a network namespace of its own.

The members' connections are local shells run in a fresh namespace (only its
loopback), so the check's ports never meet this machine's: every pair answers a
temporary listener, and the listeners are gone afterwards, also when the check
is cancelled halfway.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustermgr.core.access import HostAccess
from clustermgr.inventory.schemas import ServerView
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.result import Result
from clustermgr.services import netprobe
from clustermgr.services.reachability import State, check_reachability
from clustermgr.settings import Settings
from clustermgr.topology import Role

SERVERS = [
    ServerView(1, "t", "idp1.t.test", "127.0.0.1", 22, "root", Role.IDENTITY, None),
    ServerView(2, "t", "idp2.t.test", "127.0.0.2", 22, "root", Role.IDENTITY, None),
    ServerView(3, "t", "proxy1.t.test", "127.0.0.3", 22, "root", Role.PROXY, None),
]


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for a network namespace")
    name = f"cmreach{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


class InNamespace(LocalConnection):
    """A local shell inside ``netns``; a probe may be held up until the test lets go."""

    def __init__(self, host: str, netns: str, probing: asyncio.Event | None = None) -> None:
        super().__init__(host)
        self.netns = netns
        self.probing = probing

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        if self.probing is not None and "create_connection" in command.render():
            self.probing.set()
            await asyncio.sleep(3600)  # until cancelled
        inside = command.wrapped(("ip", "netns", "exec", self.netns))
        return await super().run(inside, timeout=timeout)


class Access(HostAccess):
    def __init__(self, settings: Settings, conns: dict[str, InNamespace]) -> None:
        super().__init__(settings, SERVERS, {})
        self.conns = conns

    async def connection(self, hostname: str) -> Connection:
        return self.conns[hostname]


def _listener_pids(netns: str) -> list[int]:
    """PIDs of the temporary listeners with a socket in ``netns``."""
    out = subprocess.run(
        ["ip", "netns", "pids", netns], capture_output=True, text=True, check=True
    ).stdout
    pids = []
    for pid in out.split():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if netprobe.MARKER.encode() in cmdline:
            pids.append(int(pid))
    return pids


async def test_every_pair_answers_a_temporary_listener_and_none_is_left(
    netns: str, tmp_path: Path
) -> None:
    conns = {s.hostname: InNamespace(s.hostname, netns) for s in SERVERS}
    matrix = await check_reachability(Access(Settings(data_dir=tmp_path), conns), SERVERS)
    members = [r for r in matrix.results if r.pair.source != "(manager)"]
    assert len(members) == 10 and {r.state for r in members} == {State.OPEN}, members
    assert all("answered" in r.detail for r in members)
    assert _listener_pids(netns) == []


async def test_a_cancelled_check_still_removes_its_listeners(netns: str, tmp_path: Path) -> None:
    probing = asyncio.Event()
    conns = {s.hostname: InNamespace(s.hostname, netns, probing) for s in SERVERS}
    check = asyncio.create_task(
        check_reachability(Access(Settings(data_dir=tmp_path), conns), SERVERS)
    )
    await asyncio.wait_for(probing.wait(), 30)
    assert _listener_pids(netns), "the listeners are up while the members probe"
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check
    assert _listener_pids(netns) == []
