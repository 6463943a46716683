"""Benchmark: the load balancer's throughput and latency, and errors during a rolling restart.

Run as root on demand (not part of the test suite); needs ``wrk`` (Debian package):

    .venv/bin/python benchmarks/lb.py [--seconds 10] [--connections 20]

Brings up a lab of its own (prefix cmblb, 10.253.0.0/24, two identity nodes and
a proxy), sets up the load balancer with ``lb apply``'s own code, then with wrk
(HTTPS, keep-alive) on ``/oxauth/.well-known/openid-configuration``:

1. through the load balancer, and directly to one node (its own nginx in front of
   the identity app): requests/s, p50 and p99 latency, errors;
2. through the load balancer while ``lb rolling-restart`` restarts the identity
   app on both nodes: the error count (non-2xx answers and socket errors).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from dataclasses import dataclass

from benchlab import bench_lab

from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import ops as lb_ops

PATH = "/oxauth/.well-known/openid-configuration"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    per_second: float
    p50: float
    p99: float
    errors: int
    #: wrk's own words on the errors (non-2xx answers, socket errors by kind).
    detail: str = ""

    def line(self, label: str) -> str:
        return (
            f"{label:<28} {self.per_second:8.0f} req/s  p50 {self.p50 * 1000:6.2f} ms"
            f"  p99 {self.p99 * 1000:6.2f} ms  ({self.requests} requests, {self.errors} errors)"
            + (f"\n{'':<28} {self.detail}" if self.detail else "")
        )


def _seconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(out: str) -> WrkResult:
    """wrk's report (with --latency): totals, the latency distribution, errors."""
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {m[0]: _seconds(m[1], m[2]) for m in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    detail = "; ".join(
        line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line
    )
    return WrkResult(requests, per_second, pct["50"], pct["99"], errors, detail)


async def wrk(url: str, seconds: float, connections: int) -> WrkResult:
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()}")
    return parse_wrk(out.decode())


async def run(args: argparse.Namespace) -> None:
    async with bench_lab("cmblb", "10.253.0.0/24", command_timeout=600) as bench:
        config, manager = bench.config, bench.manager
        report = await lb.apply(manager, config.cluster, dry_run=False)
        if not report.ok:
            raise RuntimeError("lb apply failed:\n" + str(report.as_dict()))
        through = f"https://{config.host('proxy1').address}{PATH}"
        direct = f"https://{config.host('idp1').address}{PATH}"
        await wrk(through, 2, args.connections)  # warm-up
        print(f"wrk: {args.connections} connections, {args.seconds:g} s each, HTTPS")
        result = await wrk(through, args.seconds, args.connections)
        print(result.line("through the load balancer"))
        result = await wrk(direct, args.seconds, args.connections)
        print(result.line("directly to idp1"))
        sys.stdout.flush()
        load = asyncio.create_task(wrk(through, args.seconds * 3, args.connections))
        await asyncio.sleep(args.seconds / 2)
        started = time.monotonic()
        restart = await lb_ops.rolling_restart(manager, config.cluster)
        took = time.monotonic() - started
        result = await load
        if not restart.ok:
            raise RuntimeError("rolling restart failed:\n" + str(restart.as_dict()))
        print(result.line("during a rolling restart"))
        print(f"rolling restart of 2 nodes took {took:.1f} s; errors: {result.errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
