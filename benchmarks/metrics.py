"""Benchmark: the metrics scrape of a 12-host lab at 10 s, and the 24 h chart query.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/metrics.py [--minutes 3] [--nodes 11] [--queries 50]
                                           [--series 20] [--queries-only]

1. Collection.  Brings up a lab of its own (prefix cmbmet, 10.244.0.0/24: ``--nodes``
   identity nodes with Gluu Server and a proxy), deploys every stage (the metrics stage
   starts the exporters), then runs the watcher's ``metrics`` part in this process for
   ``--minutes``, a scrape every 10 s, each cycle recorded as the watcher records it.
   Printed: the manager's CPU share for it (its process's CPU seconds over the wall
   seconds: a share of one core), the points stored per second, and the store's growth
   per host per day (extrapolated from the bytes it grew by: the SQLite pages in use,
   or VictoriaMetrics' data folder).  Once with the embedded store, once with a local
   VictoriaMetrics (``victoria-metrics``, started here).
2. The 24 h chart query.  A day of synthetic points every 10 s for ``--series`` series
   (``load1`` of as many hosts) is written into a fresh store, then the chart's query
   (every series over the last 24 h, the API's default step) is timed ``--queries``
   times, the window moving 10 s each time: from the raw points, from the 1-minute
   roll-ups (what the embedded store reads for 24 h), and from VictoriaMetrics.
   Printed: p50 and p95.

The machine is shared: the load average is printed when each part starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from benchlab import bench_lab
from sqlalchemy import text

from clustermgr.components.contract import deploy_stages
from clustermgr.components.metrics.watch import MetricsWatch
from clustermgr.components.registry import COMPONENTS
from clustermgr.core.manager import Manager
from clustermgr.jobs.deploy import apply_stages
from clustermgr.jobs.kinds import JobContext, NoParams
from clustermgr.lab.victoria import Victoria, running_victoria
from clustermgr.monitor.series import query as series_query
from clustermgr.monitor.series import rollup
from clustermgr.monitor.series.ingest import Point
from clustermgr.monitor.series.query import Resolution
from clustermgr.monitor.series.store import EmbeddedStore, SeriesStore
from clustermgr.monitor.series.victoria import IMPORT, VictoriaStore, exposition
from clustermgr.monitor.store import record_cycle
from clustermgr.plan.events import ignore
from clustermgr.settings import Settings

PREFIX, SUBNET = "cmbmet", "10.244.0.0/24"
EVERY = 10
DAY = 86400


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


@dataclass(frozen=True)
class Collected:
    store: str
    hosts: int
    seconds: float
    cpu: float
    scrapes: int
    points: int
    grew: int

    def __str__(self) -> str:
        per_host_day = self.grew / self.hosts / self.seconds * DAY
        return (
            f"{self.store}: {self.scrapes} scrapes of {self.hosts} hosts in {self.seconds:.0f} s\n"
            f"  manager CPU for collection: {self.cpu:.1f} s = {self.cpu / self.seconds:.1%}"
            " of one core (goal: under 5 %)\n"
            f"  points stored: {self.points / self.seconds:.0f} per second"
            f" ({self.points / max(1, self.scrapes):.0f} per scrape)\n"
            f"  store growth: {self.grew / 1024:.0f} KiB, {per_host_day / 2**20:.1f} MiB"
            " per host per day"
        )


async def sqlite_bytes(manager: Manager) -> int:
    """The bytes of the SQLite database's pages in use."""
    async with manager.db.session() as session:
        pages = (await session.execute(text("PRAGMA page_count"))).scalar_one()
        free = (await session.execute(text("PRAGMA freelist_count"))).scalar_one()
        size = (await session.execute(text("PRAGMA page_size"))).scalar_one()
    return int((pages - free) * size)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def collect(
    manager: Manager,
    cluster: str,
    store: SeriesStore,
    minutes: float,
    size: Callable[[], Awaitable[int]],
) -> Collected:
    """The watcher's metrics part for ``minutes``, a scrape every :data:`EVERY` seconds."""
    watch = MetricsWatch(manager)
    await watch.store.aclose()
    watch.store = store
    await watch.clusters()
    hosts = 0

    async def scrape() -> int:
        nonlocal hosts
        stored = 0
        async for cycle in watch.check(cluster):
            await record_cycle(manager, cycle)
            hosts = len(cycle.snapshot["hosts"])
            if not cycle.snapshot["store"]["ok"]:
                raise RuntimeError(f"the store took nothing: {cycle.snapshot['store']['error']}")
            stored += int(cycle.snapshot["points"])
        return stored

    try:
        await scrape()  # connects, and gives counters their first reading
        await asyncio.sleep(EVERY)
        before = await size()
        started, cpu = time.monotonic(), time.process_time()
        scrapes = points = 0
        due = started
        while due < started + minutes * 60:
            points += await scrape()
            scrapes += 1
            due += EVERY
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        seconds, used = time.monotonic() - started, time.process_time() - cpu
        grew = await size() - before
    finally:
        await watch.close()
    return Collected(store.kind, hosts, seconds, used, scrapes, points, grew)


async def collection(args: argparse.Namespace) -> list[Collected]:
    out = []
    lab = bench_lab(PREFIX, SUBNET, command_timeout=600, identity_nodes=args.nodes)
    async with lab as bench:
        cluster = bench.config.cluster
        ctx = JobContext(bench.manager, cluster, NoParams(), ignore, lambda: False, actor="bench")
        print(f"deploying {args.nodes} identity nodes and a proxy ({load()})", flush=True)
        report = await apply_stages(ctx, deploy_stages(COMPONENTS), None)
        if not report.ok:
            raise RuntimeError(f"the deploy failed: {[(s.name, s.note) for s in report.stages]}")
        manager = bench.manager
        print(f"\ncollecting for {args.minutes} min, embedded store ({load()})", flush=True)
        out.append(
            await collect(
                manager,
                cluster,
                EmbeddedStore(manager),
                args.minutes,
                lambda: sqlite_bytes(manager),
            )
        )
        print(out[-1], flush=True)
        with tempfile.TemporaryDirectory(prefix="cmbmet-vm-") as tmp:
            data = Path(tmp) / "data"
            async with running_victoria(data, cache=True) as vm:
                print(f"\ncollecting for {args.minutes} min, VictoriaMetrics ({load()})")
                store = VictoriaStore(vm.url, lookback=DAY)

                async def vm_bytes() -> int:
                    await vm.flush()
                    return await asyncio.to_thread(folder_bytes, data)

                out.append(await collect(manager, cluster, store, args.minutes, vm_bytes))
                print(out[-1], flush=True)
    return out


# --- the 24 h chart query ---------------------------------------------------------------


def day_of_points(series: int, end: int) -> list[tuple[int, list[Point]]]:
    return [
        (at, [Point(f"host{i:02d}", "load1", (), (at % 3600) / 3600 + i) for i in range(series)])
        for at in range(end - DAY, end, EVERY)
    ]


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"p50 {statistics.median(ms):6.1f} ms, p95 {p95:6.1f} ms over {len(ms)} queries"
        " (goal: p95 under 200 ms)"
    )


async def timed(queries: int, end: int, run: Callable[[int, int], Awaitable[int]]) -> str:
    took = []
    for n in range(queries):
        to = end - EVERY * (queries - n)
        started = time.perf_counter()
        count = await run(to - DAY, to)
        took.append(time.perf_counter() - started)
        if count == 0:
            raise RuntimeError("the query found no series")
    return percentiles(took)


async def chart_queries(args: argparse.Namespace) -> None:
    end = int(time.time()) // 60 * 60
    days = day_of_points(args.series, end)
    cluster = "bench"
    names = ["load1"]
    print(f"\nthe 24 h chart query, {args.series} series ({load()})", flush=True)
    with tempfile.TemporaryDirectory(prefix="cmbmet-q-") as tmp:
        manager = await Manager.open(Settings(data_dir=Path(tmp) / "manager"))
        try:
            store = EmbeddedStore(manager)
            await rollup.roll(manager, cluster, end - DAY)
            started = time.monotonic()
            for at, points in days:
                await store.write(cluster, at, points)
            seeded = time.monotonic() - started
            print(f"  seeded {len(days) * args.series} raw points in {seeded:.0f} s")

            async def raw(start: int, to: int) -> int:
                answer = await series_query.query(
                    manager, cluster, names, start=start, end=to, resolution=Resolution.RAW
                )
                return len(answer.series)

            async def rolled(start: int, to: int) -> int:
                answer = await store.query(cluster, names, start=start, end=to)
                assert answer.resolution == Resolution.MINUTE
                return len(answer.series)

            print(f"  embedded, raw points:       {await timed(args.queries, end, raw)}")
            print(f"  embedded, 1-minute roll-ups: {await timed(args.queries, end, rolled)}")
        finally:
            await manager.close()
        async with running_victoria(Path(tmp) / "vm", cache=True) as vm:
            await seed_victoria(vm, cluster, days)
            remote = VictoriaStore(vm.url, lookback=DAY)
            try:

                async def victoria(start: int, to: int) -> int:
                    return len((await remote.query(cluster, names, start=start, end=to)).series)

                print(f"  VictoriaMetrics:            {await timed(args.queries, end, victoria)}")
            finally:
                await remote.aclose()


async def seed_victoria(vm: Victoria, cluster: str, days: list[tuple[int, list[Point]]]) -> None:
    """The same day of points, an hour's worth per import request."""
    store = VictoriaStore(vm.url, lookback=DAY)
    try:
        per_request = 3600 // EVERY
        for i in range(0, len(days), per_request):
            body = b"".join(exposition(cluster, at, pts) for at, pts in days[i : i + per_request])
            (await store.client.post(IMPORT, content=body)).raise_for_status()
        await vm.flush()
    finally:
        await store.aclose()


async def main(args: argparse.Namespace) -> None:
    if not args.queries_only:
        await collection(args)
    await chart_queries(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="collection time per store")
    parser.add_argument("--nodes", type=int, default=11, help="identity nodes (and a proxy)")
    parser.add_argument("--queries", type=int, default=50, help="chart queries timed")
    parser.add_argument("--series", type=int, default=20, help="series of the chart")
    parser.add_argument("--queries-only", action="store_true", help="skip the lab part")
    asyncio.run(main(parser.parse_args()))
