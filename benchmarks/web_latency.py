"""Latency of the embedded manager under 50 concurrent clients: a page and an API route.

Starts ``python -m clustermgr serve`` on a loopback port with a fresh data dir
(SQLite, an admin with an API token, an empty cluster with a few finished
jobs; no lab needed), then has ``--clients`` clients each send ``--requests``
requests to the signed-in dashboard (``GET /``) and to ``GET /api/v1/jobs``,
and prints p50/p95/max per route.  The server is stopped by its PID.

    python benchmarks/web_latency.py [--clients 50] [--requests 20]
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
from pathlib import Path

import httpx

from clustermgr.auth import service as auth
from clustermgr.core.manager import Manager
from clustermgr.redact import Secret
from clustermgr.services import clusters
from clustermgr.settings import Settings

USERNAME = "bench"
PASSWORD = "Latency-passw0rd-42"
CLUSTER = "bench"
SEED_JOBS = 30
READY_WITHIN = 60.0


@dataclass
class Timings:
    route: str
    seconds: list[float] = field(default_factory=list)
    errors: int = 0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def report(self, wall: float) -> str:
        ms = 1000
        return (
            f"{self.route:18} n={len(self.seconds):5} errors={self.errors:3} "
            f"p50={self.quantile(0.50) * ms:7.1f} ms  p95={self.quantile(0.95) * ms:7.1f} ms  "
            f"max={max(self.seconds) * ms:7.1f} ms  "
            f"mean={statistics.mean(self.seconds) * ms:7.1f} ms  "
            f"{len(self.seconds) / wall:6.1f} req/s"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(settings: Settings) -> str:
    """An admin with an API token, and an empty cluster; returns the token."""
    manager = await Manager.open(settings)
    try:
        await auth.create_user(manager, USERNAME, Secret(PASSWORD, label="password"))
        await clusters.create_cluster(manager, CLUSTER)
        return await auth.create_api_token(manager, USERNAME, "benchmark")
    finally:
        await manager.close()


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERMGR_")}
    env["CLUSTERMGR_DATA_DIR"] = str(data_dir)
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


async def seed_jobs(url: str, token: str) -> None:
    """A history to list: plan jobs of the empty cluster (they touch no server)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for _ in range(SEED_JOBS):
            job = (
                await http.post("/api/v1/jobs", json={"kind": "plan", "cluster": CLUSTER})
            ).json()
            for _ in range(600):
                state = (await http.get(f"/api/v1/jobs/{job['id']}")).json()["state"]
                if state not in ("queued", "running"):
                    break
                await asyncio.sleep(0.05)


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


async def hammer(
    url: str, path: str, timings: Timings, clients: int, requests: int, **client_args: object
) -> float:
    async def one_client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60, **client_args) as http:  # type: ignore[arg-type]
            for _ in range(requests):
                started = time.perf_counter()
                try:
                    answer = await http.get(path)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                timings.seconds.append(time.perf_counter() - started)
                timings.errors += not ok

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return time.perf_counter() - began


async def main(clients: int, requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as tmp:
        data_dir = Path(tmp) / "manager"
        token = await prepare(Settings(data_dir=data_dir))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, port, Path(tmp) / "serve.log")
        try:
            await wait_ready(url, server)
            await seed_jobs(url, token)
            cookies = await sign_in(url)
            print(
                f"clustermgr serve (pid {server.pid}), SQLite, {clients} clients x "
                f"{requests} requests per route, {os.cpu_count()} CPUs"
            )
            for path, args in (
                ("/", {"cookies": cookies}),
                ("/api/v1/jobs", {"headers": {"Authorization": f"Bearer {token}"}}),
            ):
                label = "GET " + path + (" (page)" if path == "/" else "")
                timings = Timings(label)
                await hammer(url, path, Timings(label), min(clients, 5), 2, **args)  # warm-up
                wall = await hammer(url, path, timings, clients, requests, **args)
                print(timings.report(wall))
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
    options = parser.parse_args()
    asyncio.run(main(options.clients, options.requests))
