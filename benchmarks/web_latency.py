"""Latency of the embedded manager under 50 concurrent clients: a page and an API route.

Starts ``python -m clustermgr serve`` on a loopback port with a fresh data dir
(SQLite, watcher off, no lab needed) holding a manager's usual data: an admin
with an API token; ``--clusters`` clusters of two identity nodes and a proxy,
with LDAP replication, the cache and the balancer set up; an hour of watcher
cycles of each component (samples, snapshots; open critical and warning
alerts on some clusters, resolved ones on others); and finished jobs with
their reports (preflights, plans with diffs).  Then ``--clients`` clients each
send ``--requests`` requests to the signed-in dashboard (``GET /``), to
``GET /api/v1/jobs`` and to the stylesheet, and it prints the load average at
the start, then per route p50/p95/max, req/s and the server's CPU time per
request.  The server is stopped by its PID.

    python benchmarks/web_latency.py [--clients 50] [--requests 20] [--clusters 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from clustermgr.auth import service as auth
from clustermgr.components.cache.model import REDIS_SECRET
from clustermgr.components.lb.settingsstore import mark_applied
from clustermgr.components.ldap.ids import server_ids
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.monitor import store as monitor
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.redact import Secret
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role

USERNAME = "bench"
PASSWORD = "Latency-passw0rd-42"
READY_WITHIN = 60.0
#: Watcher cycles recorded per component and cluster: an hour, one every 30 s.
CYCLES = 120
CYCLE_EVERY = timedelta(seconds=30)
#: Finished jobs per cluster and kind (preflight, plan, apply).
JOBS_PER_KIND = 20
#: Steps per host in a plan's report, each with a diff of a config file.
STEPS_PER_HOST = 10
DIFF = "".join(f"+    option{n} = value-{n} # a changed line of a config file\n" for n in range(20))


def cluster_hosts(cluster: str) -> list[tuple[str, Role]]:
    return [
        (f"idp1.{cluster}.test", Role.IDENTITY),
        (f"idp2.{cluster}.test", Role.IDENTITY),
        (f"proxy.{cluster}.test", Role.PROXY),
    ]


def preflight_result(cluster: str) -> dict[str, object]:
    checks = ("ssh login", "os", "disk", "memory", "clock", "gluu", "ports", "dns")
    return {
        "ok": True,
        "checks": [
            {"host": host, "check": check, "status": "pass", "detail": f"{check} fine"}
            for host, _ in cluster_hosts(cluster)
            for check in checks
        ],
    }


def plan_result(cluster: str, *, dry_run: bool) -> dict[str, object]:
    steps: list[dict[str, object]] = [
        {
            "step": f"step-{n}",
            "host": host,
            "title": f"write /etc/example/file{n}.conf",
            "outcome": "would-change" if dry_run else "changed",
            "reason": "",
            "exit_status": 0,
            "stderr_tail": "",
            "diffs": [{"path": f"/etc/example/file{n}.conf", "diff": DIFF, "created": False}],
            "warnings": [],
            "commands": [f"install -m 0644 /tmp/file{n} /etc/example/file{n}.conf"],
            "duration": 0.05,
        }
        for host, _ in cluster_hosts(cluster)
        for n in range(STEPS_PER_HOST)
    ]
    hosts: dict[str, list[dict[str, object]]] = {}
    for step in steps:
        hosts.setdefault(str(step["host"]), []).append(step)
    return {"plan": "base", "dry_run": dry_run, "ok": True, "counts": {}, "hosts": hosts}


async def seed_inventory(manager: Manager, cluster: str) -> None:
    """The cluster's servers (never contacted), and each component marked set up."""
    await clusters.create_cluster(manager, cluster)
    async with manager.store() as inventory:
        for octet, (host, role) in enumerate(cluster_hosts(cluster), start=1):
            spec = ServerSpec(cluster, host, f"192.0.2.{octet}", role, ssh_port=2200 + octet)
            await inventory.add_server(spec, None, [])
    async with manager.store() as inventory:
        row = await inventory.cluster(cluster)
        identity = [s for s in row.servers if s.role == Role.IDENTITY.value]
        await server_ids(inventory, row, identity)
        await inventory.cluster_secret(row, REDIS_SECRET, lambda: Secret("x" * 32))
    await mark_applied(manager, cluster)


def findings(index: int, cluster: str, component: str, cycle: int) -> list[Finding]:
    """Cluster 0: an LDAP agreement broken (critical) and a cache warning, open;
    cluster 1: a balancer warning that was resolved; the others: none."""
    idp1, idp2, proxy = (h for h, _ in cluster_hosts(cluster))
    if index == 0 and component == "ldap" and cycle > CYCLES // 2:
        return [Finding(f"agreement:{idp2}<-{idp1}", Severity.CRITICAL, "TLS fails")]
    if index == 0 and component == "cache" and cycle > CYCLES - 10:
        return [Finding(f"repair:stunnel4:{idp2}", Severity.WARNING, "restarted stunnel4")]
    if index == 1 and component == "lb" and CYCLES // 3 < cycle < CYCLES // 2:
        return [Finding(f"backend:{idp1}<-{proxy}", Severity.WARNING, "health check slow")]
    return []


async def seed_watcher(manager: Manager, index: int, cluster: str) -> None:
    """An hour of cycles of every component: samples, the latest snapshot, alerts."""
    hosts = [h for h, role in cluster_hosts(cluster) if role == Role.IDENTITY]
    start = utcnow() - CYCLES * CYCLE_EVERY
    for cycle in range(CYCLES):
        at = start + cycle * CYCLE_EVERY
        for component in ("ldap", "cache", "lb"):
            measures = [
                monitor.Measure(f"{component}_seconds", host, peer, 0.01 * (cycle % 7 + 1))
                for host in hosts
                for peer in (*(p for p in hosts if p != host), None)
            ]
            snapshot = {"nodes": [{"host": h, "state": "ok"} for h in hosts], "cycle": cycle}
            await monitor.record_cycle(
                manager,
                monitor.Cycle(
                    cluster,
                    component,
                    at,
                    snapshot,
                    measures,
                    findings(index, cluster, component, cycle),
                ),
            )


async def seed_jobs(manager: Manager, cluster: str) -> None:
    """Finished jobs, oldest first: preflights, plans and applies with their reports."""
    for _ in range(JOBS_PER_KIND):
        for kind, mutating, result in (
            ("preflight", False, preflight_result(cluster)),
            ("plan", False, plan_result(cluster, dry_run=True)),
            ("apply", True, plan_result(cluster, dry_run=False)),
        ):
            job = await jobs.create(
                manager,
                kind=kind,
                cluster=cluster,
                mutating=mutating,
                user=USERNAME,
                params={},
                runner="embedded",
            )
            await jobs.finish(manager, job.id, JobState.SUCCEEDED, result=result)


async def prepare(settings: Settings, cluster_count: int) -> str:
    """An admin with an API token and the clusters with their history; returns the token."""
    manager = await Manager.open(settings)
    try:
        await auth.create_user(manager, USERNAME, Secret(PASSWORD, label="password"))
        for index in range(cluster_count):
            cluster = f"bench{index}"
            await seed_inventory(manager, cluster)
            await seed_watcher(manager, index, cluster)
            await seed_jobs(manager, cluster)
        return await auth.create_api_token(manager, USERNAME, "benchmark")
    finally:
        await manager.close()


@dataclass
class Timings:
    route: str
    seconds: list[float] = field(default_factory=list)
    errors: int = 0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def report(self, wall: float, cpu: float) -> str:
        ms = 1000
        return (
            f"{self.route:18} n={len(self.seconds):5} errors={self.errors:3} "
            f"p50={self.quantile(0.50) * ms:7.1f} ms  p95={self.quantile(0.95) * ms:7.1f} ms  "
            f"max={max(self.seconds) * ms:7.1f} ms  "
            f"mean={statistics.mean(self.seconds) * ms:7.1f} ms  "
            f"{len(self.seconds) / wall:6.1f} req/s  "
            f"server CPU {cpu / len(self.seconds) * ms:5.2f} ms/req"
        )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process ``pid`` has used so far, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERMGR_")}
    env["CLUSTERMGR_DATA_DIR"] = str(data_dir)
    # The seeded servers do not exist: no watcher, its recorded history is the data.
    env["CLUSTERMGR_WATCH_ENABLED"] = "false"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "clustermgr", "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_WITHIN
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"clustermgr serve exited with {process.returncode}")
            try:
                if (await http.get("/login")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("clustermgr serve did not answer in time")


async def sign_in(url: str) -> httpx.Cookies:
    """A browser session through the real login form."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        page = await http.get("/login")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise SystemExit("no CSRF token on the login page")
        answer = await http.post(
            "/login",
            data={"username": USERNAME, "password": PASSWORD, "csrf_token": match.group(1)},
        )
        if answer.status_code != 303:
            raise SystemExit(f"sign-in failed: {answer.status_code}")
        return http.cookies


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One GET on a kept-alive connection: the status and the body (by Content-Length)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    if "content-length" not in headers:
        raise SystemExit(f"no Content-Length in the answer: {lines[:3]}")
    return status, await reader.readexactly(int(headers["content-length"]))


async def hammer(
    port: int, path: str, timings: Timings, clients: int, requests: int, headers: dict[str, str]
) -> float:
    """``clients`` kept-alive connections, each sending ``requests`` GETs one after the
    other.  A minimal client (raw HTTP/1.1 over asyncio streams): its own cost per
    request is a small part of the server's, so the figures are the server's."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(requests):
                started = time.perf_counter()
                status, _ = await get(reader, writer, request)
                timings.seconds.append(time.perf_counter() - started)
                timings.errors += status != 200
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return time.perf_counter() - began


def stylesheet(page: str) -> str:
    """The stylesheet's URL as the page links it."""
    found = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    if found is None:
        raise SystemExit("no stylesheet link on the dashboard")
    return found.group(1).replace("&amp;", "&")


async def main(clients: int, requests: int, cluster_count: int) -> None:
    load = os.getloadavg()
    print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as tmp:
        data_dir = Path(tmp) / "manager"
        began = time.perf_counter()
        token = await prepare(Settings(data_dir=data_dir), cluster_count)
        seeded = time.perf_counter() - began
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, port, Path(tmp) / "serve.log")
        try:
            await wait_ready(url, server)
            cookies = await sign_in(url)
            async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30) as http:
                css = stylesheet((await http.get("/")).text)
            print(
                f"clustermgr serve (pid {server.pid}), SQLite, {cluster_count} clusters "
                f"(data seeded in {seeded:.1f} s), {clients} clients x {requests} requests "
                f"per route, {os.cpu_count()} CPUs"
            )
            session = "; ".join(f"{name}={value}" for name, value in cookies.items())
            for label, path, headers in (
                ("GET / (page)", "/", {"Cookie": session}),
                ("GET /api/v1/jobs", "/api/v1/jobs", {"Authorization": f"Bearer {token}"}),
                ("GET stylesheet", css, {}),
            ):
                timings = Timings(label)
                await hammer(port, path, Timings(label), min(clients, 5), 2, headers)  # warm-up
                cpu = cpu_seconds(server.pid)
                wall = await hammer(port, path, timings, clients, requests, headers)
                print(timings.report(wall, cpu_seconds(server.pid) - cpu))
        finally:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(server.pid, signal.SIGKILL)
                server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="Requests per client and route.")
    parser.add_argument("--clusters", type=int, default=3, help="Clusters in the data set.")
    options = parser.parse_args()
    asyncio.run(main(options.clients, options.requests, options.clusters))
