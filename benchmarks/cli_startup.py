"""Benchmark: how long a ``clustermgr`` process takes before it does anything.

Run on demand (not part of the test suite; no lab, no root):

    .venv/bin/python benchmarks/cli_startup.py [--rounds 5]

Runs each command as a user does (the ``clustermgr`` script next to this Python),
``--rounds`` times, interleaved: ``clustermgr --help``, ``clustermgr server list
--json`` on an empty data folder of its own (SQLite, created by the first run), and a
component group's help (``clustermgr ldap --help``).  Prints the load average at the
start, then the wall-clock and CPU seconds (user + system) of each command:
min / median / max.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, tuple[str, ...]] = {
    "--help": ("--help",),
    "server list --json": ("server", "list", "--json"),
    "ldap --help": ("ldap", "--help"),
}


def clustermgr() -> str:
    """The ``clustermgr`` script of this Python's environment."""
    script = Path(sys.executable).parent / "clustermgr"
    if not script.exists():
        sys.exit(f"no {script}: install clustermgr into this environment first")
    return str(script)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    script = clustermgr()
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as data_dir:
        env = {**os.environ, "CLUSTERMGR_DATA_DIR": data_dir}
        env.pop("CLUSTERMGR_DATABASE_URL", None)
        run([script, "server", "list", "--json"], env)  # creates the database
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average at the start: {load} ({os.cpu_count()} cores)")
        walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
        cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(args.rounds):
            for name, argv in COMMANDS.items():
                wall, cpu = run([script, *argv], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    print(f"{args.rounds} rounds, min / median / max")
    for name in COMMANDS:
        print(f"clustermgr {name:20} wall {spread(walls[name])}   cpu {spread(cpus[name])}")


if __name__ == "__main__":
    main()
