"""Benchmark: a whole deploy, cold and again as a no-op, and where its time goes.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/deploy.py [--nodes 2|11] [--rounds 3] [--from-bare]

Each round brings up a fresh lab of its own (prefix cmbdep, 10.247.0.0/24: ``--nodes``
identity nodes with Gluu Server installed beforehand, untimed, or, with
``--from-bare``, bare servers with the install settings given; and a proxy), then, in
this one process and with the deploy's own code (``apply_stages`` over every stage of the
registry: the install, base, LDAP, cache, load balancer):

1. a cold deploy, timed;
2. a no-op re-deploy, timed, which must report every step unchanged.

Each is printed with the CPU seconds it cost, the whole machine's (every core: the
lab's hosts run their daemons, SSH sessions and checks on this machine too) and the
manager process's own: a deploy that used most of what the cores had is bound by CPU.

Printed: each round's times and the load average at its start (the machine's other
work shows there), min / median / max of both over the rounds, and from the last
round's timing sections the stages' totals, waits for rolling turns, SSH round trips
and the slowest steps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from benchlab import ADMIN_PASSWORD, bench_lab

from clustermgr.components.contract import deploy_stages
from clustermgr.components.install.lab import lab_settings
from clustermgr.components.install.store import change
from clustermgr.components.registry import COMPONENTS
from clustermgr.jobs.deploy import DeployReport, apply_stages
from clustermgr.jobs.kinds import JobContext, NoParams
from clustermgr.plan.events import ignore
from clustermgr.plan.model import Outcome

PREFIX, SUBNET = "cmbdep", "10.247.0.0/24"
SLOWEST = 10


def machine_cpu() -> float:
    """CPU seconds the whole machine spent since boot: every core, every process (the
    lab's hosts and their daemons included)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Took:
    """A deploy's seconds, and the CPU seconds it cost: the machine's and the manager's."""

    seconds: float
    machine: float
    manager: float

    def __str__(self) -> str:
        cores = os.cpu_count() or 1
        return (
            f"{self.seconds:6.1f} s (CPU: machine {self.machine:.1f} s of the"
            f" {self.seconds * cores:.1f} s its {cores} cores had, manager {self.manager:.1f} s)"
        )


async def deploy(ctx: JobContext[NoParams]) -> tuple[Took, DeployReport]:
    started, cpu, own = time.monotonic(), machine_cpu(), time.process_time()
    report = await apply_stages(ctx, deploy_stages(COMPONENTS), None)
    took = Took(time.monotonic() - started, machine_cpu() - cpu, time.process_time() - own)
    if not report.ok:
        failed = [f"{s.title}: {s.note}" for s in report.stages if s.note]
        raise RuntimeError("the deploy failed: " + "; ".join(failed))
    return took, report


async def one_round(nodes: int, bare: bool) -> tuple[Took, Took, DeployReport, DeployReport]:
    lab = bench_lab(PREFIX, SUBNET, command_timeout=600, gluu=not bare, identity_nodes=nodes)
    async with lab as bench:
        if bare:  # the install settings a user gives for the lab: its repository
            repo = bench.config.apt_repo
            await change(
                bench.manager,
                bench.config.cluster,
                lab_settings(repo),
                admin_password=ADMIN_PASSWORD,
                actor="bench",
            )
        ctx = JobContext(
            bench.manager, bench.config.cluster, NoParams(), ignore, lambda: False, actor="bench"
        )
        cold, first = await deploy(ctx)
        noop, second = await deploy(ctx)
        changed = second.count(Outcome.CHANGED)
        if changed:
            raise RuntimeError(f"the second deploy changed {changed} steps: it must change none")
        return cold, noop, first, second


def spread(values: list[float]) -> str:
    return (
        f"{min(values):6.1f} / {statistics.median(values):6.1f} / {max(values):6.1f} s"
        " (min / median / max)"
    )


def show_timing(label: str, timing: dict[str, Any]) -> None:
    ssh = timing["ssh"]
    print(
        f"\n{label}: {timing['wall']:.1f} s; its stages {timing['seconds']:.1f} s in all"
        " (some side by side)"
    )
    for stage in timing["stages"]:
        print(
            f"  {stage['title']:<32} {stage['seconds']:6.1f} s end to end,"
            f" {stage['steps']:6.1f} s in steps (summed over hosts)"
        )
    print(
        f"  steps {timing['steps']:.1f} s (summed over hosts), rolling turns waited"
        f" {timing['turn_wait']:.1f} s, SSH {ssh['round_trips']} round trips in"
        f" {ssh['seconds']:.1f} s, connecting {ssh['connect']:.1f} s"
    )
    print(f"  slowest {SLOWEST} steps:")
    for step in timing["slowest"][:SLOWEST]:
        print(f"    {step['duration']:6.2f} s  {step['host']:<22} {step['title']}")


async def main(args: argparse.Namespace) -> None:
    colds: list[float] = []
    noops: list[float] = []
    last: tuple[DeployReport, DeployReport] | None = None
    start = "bare servers (the install first)" if args.from_bare else "pre-installed Gluu nodes"
    print(f"deploy of {args.nodes} identity nodes + 1 proxy from {start}, {args.rounds} rounds")
    for number in range(1, args.rounds + 1):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        cold, noop, first, second = await one_round(args.nodes, args.from_bare)
        colds.append(cold.seconds)
        noops.append(noop.seconds)
        last = (first, second)
        print(f"round {number}: load average {load} at start", flush=True)
        print(f"  cold  {cold}", flush=True)
        unchanged = second.count(Outcome.UNCHANGED)
        print(f"  no-op {noop}, {unchanged} steps unchanged", flush=True)
    print(f"\ncold deploy:      {spread(colds)}")
    print(f"no-op re-deploy:  {spread(noops)}")
    assert last is not None
    show_timing("last cold deploy", last[0].timing())
    show_timing("last no-op re-deploy", last[1].timing())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2, help="identity nodes (2 or 11)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--from-bare",
        action="store_true",
        help="bare servers: the cold deploy installs Gluu Server first (bare to healthy)",
    )
    parsed = parser.parse_args()
    if parsed.rounds < 3:
        parser.error("--rounds must be at least 3")
    if parsed.nodes < 1:
        parser.error("--nodes must be at least 1")
    try:
        asyncio.run(main(parsed))
    except KeyboardInterrupt:
        sys.exit(130)
