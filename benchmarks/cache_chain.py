"""Benchmark: the cache chain's throughput and latency, and its error window around a Redis outage.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/cache_chain.py [--seconds 5] [--outage 8]

Brings up a lab of its own (prefix cmbcache, 10.246.0.0/24: two identity nodes
and a proxy), sets up LDAP replication and the cache with the product's own
code, then, from a client running on idp1 (one connection, SET then GET of
random keys, as the identity app does):

1. ops/s and p50/p99 latency through the full chain (127.0.0.1:7000: stunnel,
   TLS to the proxy, twemproxy, stunnel, TLS to a node, Redis), and directly
   against the local Redis (127.0.0.1:6379);
2. the error window: while the client keeps going, Redis on idp2 is stopped for
   ``--outage`` seconds and started again; printed are the failed requests and
   the seconds from the first to the last failure after the stop and after the
   start (twemproxy ejects the dead server, retries it every 2 s, and takes it
   back when it answers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from benchlab import bench_lab

from clustermgr.components.cache import apply as cache
from clustermgr.components.cache.model import REDIS_SECRET
from clustermgr.components.cache.probe import RESP
from clustermgr.components.ldap import apply as ldap
from clustermgr.core.access import HostAccess, open_access
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

#: The client, run on idp1: stdin {"password", "port", "seconds"}; prints one JSON object.
CLIENT = (
    RESP
    + r"""
import json, os, random, socket, sys, time
req = json.load(sys.stdin)

class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", req["port"]), timeout=2)
        self.f = self.s.makefile("rb")
        self.call("AUTH", req["password"])
    def call(self, *args):
        return resp(self.s, self.f, *args)
    def close(self):
        try:
            self.f.close(); self.s.close()
        except OSError:
            pass

lat, failures, ok = [], [], 0
conn = None
start = time.monotonic()
end = start + req["seconds"]
value = os.urandom(200).hex()
while time.monotonic() < end:
    key = "bench:%d" % random.randrange(10**9)
    t0 = time.monotonic()
    try:
        if conn is None:
            conn = Conn()
        conn.call("SET", key, value, "EX", 60)
        if conn.call("GET", key) is None:
            raise OSError("key missing")
        lat.append(time.monotonic() - t0)
        ok += 1
    except OSError:
        failures.append(round(t0 - start, 3))
        if conn is not None:
            conn.close()
        conn = None
        time.sleep(0.01)
print(json.dumps({"ok": ok, "seconds": time.monotonic() - start, "lat": lat,
                  "failures": failures}))
"""
)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def client(
    access: HostAccess, host: str, password: Secret, port: int, seconds: float
) -> dict[str, Any]:
    request = json.dumps({"password": password.reveal(), "port": port, "seconds": seconds})
    conn = await access.connection(host)
    stdin = Secret(request, label="bench")
    done = (await conn.run(Command.of("python3", "-c", CLIENT, stdin=stdin))).check()
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def describe(name: str, data: dict[str, Any]) -> str:
    ops = data["ok"] * 2 / data["seconds"]  # a SET and a GET per round
    lat = data["lat"]
    return (
        f"{name}: {ops:,.0f} ops/s (SET+GET rounds, one connection); "
        f"round p50 {pct(lat, 50) * 1000:.2f} ms, p99 {pct(lat, 99) * 1000:.2f} ms; "
        f"{len(data['failures'])} failed"
    )


def window(failures: list[float], since: float, until: float) -> tuple[int, float]:
    inside = [t for t in failures if since <= t < until]
    return len(inside), round(inside[-1] - inside[0], 2) if inside else 0.0


async def outage(
    access: HostAccess, password: Secret, node: str, victim: str, seconds: float, gap: float
) -> None:
    total = 2 + gap + 8
    load = asyncio.create_task(client(access, node, password, 7000, total))
    victim_conn = await access.connection(victim)
    t0 = time.monotonic()
    await asyncio.sleep(2)
    await victim_conn.run(Command.script("service redis-server stop >/dev/null"))
    stopped = time.monotonic() - t0
    await asyncio.sleep(gap)
    await victim_conn.run(Command.script("service redis-server start >/dev/null"))
    started = time.monotonic() - t0
    data = await load
    # The client's clock starts about when the task began (within an SSH round trip).
    dead = window(data["failures"], stopped, started)
    back = window(data["failures"], started, total + 1)
    print(f"Redis on {victim} stopped at {stopped:.1f} s for {gap:g} s, client on {node}:")
    print(f"  after the stop:   {dead[0]} failed requests over {dead[1]} s")
    print(f"  after the return: {back[0]} failed requests over {back[1]} s")
    print(f"  {data['ok']} successful rounds in {data['seconds']:.1f} s")


async def main(args: argparse.Namespace) -> None:
    async with bench_lab("cmbcache", "10.246.0.0/24") as bench:
        config, manager = bench.config, bench.manager
        report = await ldap.apply(manager, config.cluster, dry_run=False)
        assert report.ok, report.as_dict()
        report = await cache.apply(manager, config.cluster, dry_run=False)
        assert report.ok, report.as_dict()
        async with manager.store() as inventory:
            cluster = await inventory.cluster(config.cluster)
            password = await inventory.find_cluster_secret(cluster, REDIS_SECRET)
        assert password is not None
        node, victim = config.host("idp1").fqdn, config.host("idp2").fqdn
        async with await open_access(manager, config.cluster) as access:
            await asyncio.sleep(3)  # twemproxy's first connections
            chain = await client(access, node, password, 7000, args.seconds)
            direct = await client(access, node, password, 6379, args.seconds)
            print(describe("full chain (127.0.0.1:7000)", chain))
            print(describe("direct Redis (127.0.0.1:6379)", direct))
            await outage(access, password, node, victim, args.seconds, args.outage)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--outage", type=float, default=8.0)
    try:
        asyncio.run(main(parser.parse_args()))
    except KeyboardInterrupt:
        sys.exit(130)
