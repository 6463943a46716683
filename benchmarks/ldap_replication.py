"""Benchmark: LDAP replication latency under write load, and catch-up after missed writes.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/ldap_replication.py [--probes 60] [--rate 10] [--missed 2000]

Brings up a lab of its own (prefix cmbldap, 10.245.0.0/24, three identity nodes),
sets up replication with ``ldap apply``'s own code, then:

1. Probe latency: while every node takes a steady stream of writes (``--rate``
   entries per second each), probes are written on each node in turn and timed
   until every other node has them; p50 and p99 are printed.  The manager polls
   the other nodes over SSH, as ``ldap status`` does, so a figure includes one
   polling round trip (printed too, measured with the nodes idle).
2. Catch-up: one node is stopped, ``--missed`` entries are written on another,
   the node is started again, and the time until it holds all of them is printed
   (from the host's start, and from the moment its slapd answers).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from benchlab import bench_lab

from clustermgr.components.ldap import apply as ldap
from clustermgr.components.ldap import status as ldap_status
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.facts.ldap import ldapsearch_root
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig
from clustermgr.remote.command import Command
from clustermgr.settings import Settings

BRANCH = "ou=bench,o=gluu"
ADD = "ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null"

_LOAD = f"""\
end=$(( $(date +%s) + $1 )); i=0
while [ "$(date +%s)" -lt "$end" ]; do
  i=$((i + 1))
  printf 'dn: ou=load-%s-%s,{BRANCH}\\nobjectClass: organizationalUnit\\nou: load-%s-%s\\n' \\
    "$2" "$i" "$2" "$i" | {ADD}
  sleep "$3"
done
echo "$i"
"""

_MISSED = f"""\
for i in $(seq 1 "$1"); do
  printf 'dn: ou=missed-%s,{BRANCH}\\nobjectClass: organizationalUnit\\nou: missed-%s\\n\\n' \\
    "$i" "$i"
done | {ADD}
"""

#: slapcat reads the database itself: no search limit or ACL is in the way.
_COUNT = "slapcat -b o=gluu -a '(ou=missed-*)' 2>/dev/null | grep -c '^dn:' || true"


async def sh(access: HostAccess, host: str, script: str, *args: str) -> str:
    conn = await access.connection(host)
    return (await conn.run(Command.script(script, *args))).check().stdout


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def probe_latencies(access: HostAccess, hosts: list[str], count: int) -> list[float]:
    """``count`` probes, written on each node in turn; seconds until all others had each."""
    out = []
    for i in range(count):
        first = hosts[i % len(hosts)]
        seconds = await ldap_status.probe_latency(
            access, [first, *(h for h in hosts if h != first)]
        )
        if seconds is None:
            raise RuntimeError(f"a probe from {first} did not reach every node")
        out.append(seconds)
    return out


async def poll_round_trip(access: HostAccess, host: str, rounds: int = 20) -> float:
    conn = await access.connection(host)
    started = time.perf_counter()
    for _ in range(rounds):
        await conn.run(ldapsearch_root("-b", BRANCH, "-s", "base", "dn"))
    return (time.perf_counter() - started) / rounds


async def under_load(
    access: HostAccess, hosts: list[str], probes: int, rate: float
) -> tuple[list[float], int, float]:
    """Probe latencies while every node writes ``rate`` entries/s; writes done; seconds."""
    seconds = max(10, int(probes * 0.6))
    started = time.perf_counter()
    load = [
        asyncio.create_task(sh(access, h, _LOAD, str(seconds), str(n), f"{1 / rate:.3f}"))
        for n, h in enumerate(hosts)
    ]
    try:
        latencies = await probe_latencies(access, hosts, probes)
    finally:
        written = sum(int(out.strip() or 0) for out in await asyncio.gather(*load))
    return latencies, written, time.perf_counter() - started


async def catch_up(
    config: LabConfig, settings: Settings, manager: Manager, missed: int
) -> tuple[float, float]:
    """Stop the last node, write ``missed`` entries on the first, start it again.

    Returns seconds from the start of the host, and from its slapd answering, until
    it holds every missed entry.
    """
    names = [h.name for h in config.hosts() if h.name.startswith("idp")]
    writer, sleeper = config.host(names[0]).fqdn, config.host(names[-1])
    service.stop(config, sleeper.name)
    async with await open_access(manager, config.cluster, [writer]) as access:
        await sh(access, writer, _MISSED, str(missed))
    started = time.perf_counter()
    service.start(config, settings, sleeper.name)
    answered = None
    deadline = started + 600
    while time.perf_counter() < deadline:
        try:
            async with await open_access(manager, config.cluster, [sleeper.fqdn]) as access:
                while time.perf_counter() < deadline:
                    count = int((await sh(access, sleeper.fqdn, _COUNT)).strip() or 0)
                    answered = answered or time.perf_counter()
                    if count >= missed:
                        done = time.perf_counter()
                        return done - started, done - answered
                    await asyncio.sleep(0.2)
        except ClustermgrError:  # the host is still booting: connect again
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{sleeper.fqdn} did not catch up within 600 s")


async def run(args: argparse.Namespace) -> None:
    lab = bench_lab("cmbldap", "10.245.0.0/24", command_timeout=600, identity_nodes=3)
    async with lab as bench:
        config, settings, manager = bench.config, bench.settings, bench.manager
        report = await ldap.apply(manager, config.cluster, dry_run=False)
        if not report.ok:
            raise RuntimeError("ldap apply failed:\n" + str(report.as_dict()))
        async with await open_access(manager, config.cluster) as access:
            hosts = [h.fqdn for h in config.hosts() if h.name.startswith("idp")]
            entry = f"dn: {BRANCH}\\nobjectClass: organizationalUnit\\nou: bench\\n"
            await sh(access, hosts[0], f"printf '{entry}' | {ADD}")
            await probe_latencies(access, hosts, 3)  # the branch everywhere; warm-up
            idle = await probe_latencies(access, hosts, max(6, args.probes // 4))
            trip = await poll_round_trip(access, hosts[1])
            loaded, written, seconds = await under_load(access, hosts, args.probes, args.rate)
            print(f"nodes: {len(hosts)}; one polling round trip: {trip * 1000:.0f} ms")
            for label, values in (("idle", idle), ("under load", loaded)):
                print(
                    f"probe latency {label:>10}: p50 {percentile(values, 50) * 1000:6.0f} ms"
                    f"  p99 {percentile(values, 99) * 1000:6.0f} ms  ({len(values)} probes)"
                )
            rate = written / seconds
            print(f"write load: {written} entries in {seconds:.1f} s ({rate:.1f}/s)")
            sys.stdout.flush()
        from_start, from_answer = await catch_up(config, settings, manager, args.missed)
        print(
            f"catch-up after {args.missed} missed writes: {from_start:.1f} s from the "
            f"host's start, {from_answer:.1f} s from its slapd answering"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10.0, help="writes per second per node")
    parser.add_argument("--missed", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
