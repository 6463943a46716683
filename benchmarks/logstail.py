"""The log benchmark's lab part: from a line written on a node to the store, and the
follower's CPU on the node (see ``benchmarks/logs.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from benchlab import bench_lab

from clustermgr.components.logs.collector import HostFollower
from clustermgr.components.logs.program import follower_source
from clustermgr.components.logs.sources import Format, Source
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager
from clustermgr.logstore.records import LogRecord, ResumePoint
from clustermgr.logstore.store import LogStore, log_store
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.settings import Settings

PREFIX, SUBNET = "cmblogs", "10.243.0.0/24"
RATE = 100
PROGRAM = "/tmp/cmbench-logfollow.py"
LOG = "/tmp/cmbench-tail.log"
#: Each line carries the node's clock at its write (the lab's nodes share the machine's).
WRITER = r"""
import sys, time
seconds, rate = float(sys.argv[1]), float(sys.argv[2])
end = time.time() + seconds
n = 0
with open(sys.argv[3], "a", buffering=1) as f:
    while time.time() < end:
        f.write("line %d written %.6f\n" % (n, time.time()))
        n += 1
        time.sleep(1.0 / rate)
"""
#: utime + stime of the follower (clock ticks), and the ticks per second.
CPU = r"""
pid=$(pgrep -fx "python3 $1" | head -n 1)
echo "$(cut -d' ' -f14,15 "/proc/$pid/stat") $(getconf CLK_TCK)"
"""


class Timed:
    """The store, noting each record's delay from its write to its commit."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.delays: list[float] = []

    async def ingest(
        self,
        cluster: str,
        host: str,
        source: str,
        records: Sequence[LogRecord],
        resume: ResumePoint,
    ) -> int:
        done = await self.store.ingest(cluster, host, source, records, resume)
        now = time.time()
        self.delays += [now - float(r.message.rsplit(" ", 1)[1]) for r in records]
        return done

    async def resume_points(self, cluster: str, host: str) -> dict[str, ResumePoint]:
        return await self.store.resume_points(cluster, host)


def _ticks(out: str) -> tuple[int, int]:
    utime, stime, hz = (int(x) for x in out.split())
    return utime + stime, hz


async def tail_delays(backends: list[tuple[str, str]], seconds: float) -> None:
    lab = bench_lab(PREFIX, SUBNET, gluu=False, identity_nodes=1, proxies=0)
    async with lab as bench, await open_access(bench.manager, bench.config.cluster) as access:
        host = next(iter(access.servers))
        conn = await access.connection(host)

        async def sh(script: str, *args: str) -> str:
            return (await conn.run(Command.script(script, *args))).check().stdout

        await conn.run(Command.script('cat > "$1"', PROGRAM, stdin=follower_source()))
        for backend, url in backends:
            manager = await Manager.open(
                Settings(data_dir=Path(bench.settings.data_dir) / backend, database_url=url)
            )
            try:
                await _one(backend, manager, conn, sh, host, seconds)
            finally:
                await manager.close()


async def _one(
    backend: str,
    manager: Manager,
    conn: Connection,
    sh: Callable[..., Awaitable[str]],
    host: str,
    seconds: float,
) -> None:
    timed = Timed(log_store(manager))
    source = Source("bench", "bench", Format.SYSLOG, LOG)
    await sh('rm -f "$1"', LOG)
    # The follower uses only the store's ingest and resume points.
    follower = HostFollower("bench", host, cast(LogStore, timed), program=PROGRAM)
    await follower.start(conn, (source,))
    try:
        while not follower.states:  # waits for the file (missing), then reads it from 0
            await follower.drain(0.5)
        await sh('nohup python3 -c "$1" "$2" "$3" "$4" >/dev/null 2>&1 &', WRITER,
                 str(seconds), str(RATE), LOG)  # fmt: skip
        before, hz = _ticks(await sh(CPU, PROGRAM))
        started = time.monotonic()
        while time.monotonic() - started < seconds + 2:
            await follower.drain(0.8)
        after, _ = _ticks(await sh(CPU, PROGRAM))
        wall = time.monotonic() - started
    finally:
        await follower.stop()
    delays = sorted(timed.delays)
    p50 = statistics.median(delays)
    p95 = delays[int(0.95 * (len(delays) - 1))]
    cpu = (after - before) / hz / wall * 100
    print(
        f"{backend}: {len(delays)} lines at {RATE}/s on a lab node: delay to the store "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (goal: under 2 s); "
        f"the follower's CPU {cpu:.1f} % of a core ({datetime.now(UTC):%H:%M} UTC)"
    )
