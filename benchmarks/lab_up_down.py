"""Benchmark: time to bring the lab up and down, and memory per host.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/lab_up_down.py [--sizes 3 12] [--rounds 2]

Uses its own prefix and subnet (cmbench, 10.235.0.0/24) and a temporary data
folder, so it never touches a lab in use.  Memory is the resident set of every
process in a host's network namespace (PSS where the kernel reports it, which
shares the common libraries fairly between hosts).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from clustermgr.lab import hosts, service
from clustermgr.lab.config import LabConfig
from clustermgr.settings import Settings


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB of one process; zeros when it has gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:]}
    return values.get("Rss", 0), values.get("Pss", 0)


def host_memory(config: LabConfig) -> list[tuple[int, int]]:
    out = []
    for host in config.hosts():
        pairs = [memory_kib(pid) for pid in hosts.processes_in(host.netns)]
        out.append((sum(r for r, _ in pairs), sum(p for _, p in pairs)))
    return out


async def one_round(size: int, base: Path) -> tuple[float, float, list[tuple[int, int]]]:
    settings = Settings(data_dir=base / "manager")
    config = LabConfig(
        state_dir=base / "lab",
        prefix="cmbench",
        subnet="10.235.0.0/24",
        identity_nodes=size - 1,
        proxies=1,
    )
    await service.down(config, settings)
    started = time.perf_counter()
    await service.up(config, settings)
    up_seconds = time.perf_counter() - started
    memory = host_memory(config)
    started = time.perf_counter()
    await service.down(config, settings)
    return up_seconds, time.perf_counter() - started, memory


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(
        f"{'hosts':>5} {'up s (median)':>14} {'down s (median)':>16} "
        f"{'RSS MiB/host':>13} {'PSS MiB/host':>13}"
    )
    for size in args.sizes:
        ups, downs, rss, pss = [], [], [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="cmbench-") as tmp:
                up_s, down_s, memory = await one_round(size, Path(tmp))
            ups.append(up_s)
            downs.append(down_s)
            rss += [r for r, _ in memory]
            pss += [p for _, p in memory]
        print(
            f"{size:>5} {statistics.median(ups):>14.2f} {statistics.median(downs):>16.2f} "
            f"{statistics.mean(rss) / 1024:>13.1f} {statistics.mean(pss) / 1024:>13.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
