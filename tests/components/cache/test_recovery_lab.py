"""Sessions through the cache chain, and the watcher's recovery of its hops.

A lab of its own (two identity nodes replicating LDAP, a proxy, the cache
applied), the stand-in identity app on each node keeping sessions in Redis
through 127.0.0.1:7000, and the watcher running as ``clustermgr serve`` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from cachelab import cache_lab, configure, wait_chain_ok
from clustermgr.components import registry
from clustermgr.components.cache.watch import CacheWatch
from clustermgr.core.manager import Manager
from clustermgr.lab.gluu import directory as gluu
from clustermgr.monitor import store
from clustermgr.monitor.watcher import Watcher
from labfixture import ADMIN_PASSWORD, Lab
from polling import eventually

# A loop of this module's own: whatever its watcher and load leave behind ends with it.
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NODES = ("idp1", "idp2")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with cache_lab(tmp_path_factory.mktemp("cache-recovery")) as running:
        report = await configure(running)
        assert report["ok"], json.dumps(report, indent=1)
        await wait_chain_ok(running)
        yield running


class App:
    """The stand-in identity app on every node, its certificates pinned once."""

    def __init__(self, lab: Lab, certs: dict[str, str]) -> None:
        self.lab = lab
        self.contexts = {}
        for node, cert in certs.items():
            ctx = ssl.create_default_context(cadata=cert)
            ctx.check_hostname = False
            self.contexts[node] = ctx
        self.password = ADMIN_PASSWORD.reveal()

    @classmethod
    async def of(cls, lab: Lab) -> App:
        certs = {n: await lab.sh(n, f"cat {gluu.HTTPD_CERT}") for n in NODES}
        return cls(lab, certs)

    def _call(self, node: str, path: str, body: dict[str, str] | None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"https://{self.lab.host(node).address}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, context=self.contexts[node], timeout=5) as ans:
                return ans.status, json.loads(ans.read())
        except urllib.error.HTTPError as err:
            return err.code, None
        except OSError:
            return 0, None

    async def login(self, node: str) -> tuple[int, Any]:
        body = {"username": "admin", "password": self.password}
        return await asyncio.to_thread(self._call, node, "/oxauth/restv1/login", body)

    async def session(self, node: str, session_id: str) -> tuple[int, Any]:
        path = f"/oxauth/restv1/session/{session_id}"
        return await asyncio.to_thread(self._call, node, path, None)

    async def round(self, first: str, second: str) -> bool:
        """A login on ``first``, its session read on ``second``."""
        status, session = await self.login(first)
        if status != 200 or not session or session.get("cache") != "REDIS":
            return False
        status, found = await self.session(second, session["session_id"])
        return status == 200 and bool(found) and found.get("session_id") == session["session_id"]


@dataclass
class Load:
    """Logins alternating between the nodes, each read back on the other node."""

    app: App
    ok: int = 0
    failed: int = 0
    failures: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            first, second = NODES[turn % 2], NODES[(turn + 1) % 2]
            turn += 1
            if await self.app.round(first, second):
                self.ok += 1
            else:
                self.failed += 1
                self.failures.append(time.monotonic())
            await asyncio.sleep(0.02)

    def error_seconds(self) -> float:
        """Seconds from the first to the last failure (0 with none)."""
        return round(self.failures[-1] - self.failures[0], 2) if self.failures else 0.0


@contextlib.asynccontextmanager
async def watching(lab: Lab) -> AsyncIterator[Manager]:
    settings = lab.settings.model_copy(update={"watch_interval": 1.0, "watch_timeout": 4.0})
    manager = await Manager.open(settings)
    watcher = Watcher(manager, [CacheWatch(manager)], kinds=registry.job_kinds())
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        yield manager
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await watcher.close()
        await manager.close()


async def redis_cli(lab: Lab, node: str, *args: str) -> str:
    manager = await Manager.open(lab.settings)
    try:
        async with manager.store() as inventory:
            cluster = await inventory.cluster(lab.config.cluster)
            password = await inventory.find_cluster_secret(cluster, "redis")
    finally:
        await manager.close()
    assert password is not None
    return await lab.sh(
        node, 'export REDISCLI_AUTH="$1"; shift; redis-cli "$@" 2>&1', password, *args
    )


async def wait_sessions_in_redis(app: App, timeout: float = 20) -> None:
    """The app re-reads oxCacheConfiguration every second: wait for REDIS on both nodes."""
    deadline = time.monotonic() + timeout
    for node in NODES:
        while True:
            status, session = await app.login(node)
            if status == 200 and session.get("cache") == "REDIS":
                break
            assert time.monotonic() < deadline, (node, status, session)
            await asyncio.sleep(0.3)


async def test_a_login_on_node_1_gives_a_session_readable_on_node_2(lab: Lab) -> None:
    app = await App.of(lab)
    await wait_sessions_in_redis(app)
    status, session = await app.login("idp1")
    assert status == 200 and session["node"] == "idp1.lab.test", session
    assert session["cache"] == "REDIS"
    status, found = await app.session("idp2", session["session_id"])
    assert status == 200 and found["session_id"] == session["session_id"], found
    # and it lives in one of the nodes' Redis, not in the app
    keys = [await redis_cli(lab, n, "--scan", "--pattern", "session_*") for n in NODES]
    assert any(session["session_id"] in k for k in keys), keys


async def test_a_stopped_redis_is_survived_and_its_return_taken_back(lab: Lab) -> None:
    app = await App.of(lab)
    await wait_sessions_in_redis(app)
    async with watching(lab):
        load = Load(app)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(2)
        before = (load.ok, load.failed)
        await lab.sh("idp2", "service redis-server stop >/dev/null")
        stopped = time.monotonic()
        await asyncio.sleep(8)
        during = (load.ok - before[0], load.failed - before[1])
        await lab.sh("idp2", "service redis-server start >/dev/null")
        started = time.monotonic()
        back: float | None = None
        while time.monotonic() - started < 30:
            keys = await redis_cli(lab, "idp2", "dbsize")
            if keys.strip().isdigit() and int(keys) > 0:
                back = round(time.monotonic() - started, 2)
                break
            await asyncio.sleep(0.5)
        load.stop.set()
        await running
    outage = [t for t in load.failures if stopped <= t < started]
    report = {
        "requests_during_outage": sum(during),
        "failed_during_outage": during[1],
        "error_seconds_during_outage": round(outage[-1] - outage[0], 2) if outage else 0.0,
        "back_in_pool_after_s": back,
        "failed_after_return": len([t for t in load.failures if t >= started]),
    }
    print("cache outage:", json.dumps(report))
    assert during[0] > 10 and during[0] > 3 * during[1], report
    assert back is not None, f"idp2's Redis got no key within 30 s of its return: {report}"


async def test_a_killed_twemproxy_is_detected_and_restarted(lab: Lab) -> None:
    async with watching(lab) as manager:
        old = (await lab.sh("proxy1", "cat /run/nutcracker/nutcracker.pid")).strip()
        await lab.sh("proxy1", 'kill -9 "$1"', old)
        killed = time.monotonic()
        while True:
            pid = await lab.sh("proxy1", "cat /run/nutcracker/nutcracker.pid 2>/dev/null || true")
            listening = await lab.sh("proxy1", "ss -Hltn 'sport = :2222' | wc -l")
            if pid.strip() and pid.strip() != old and int(listening) > 0:
                break
            assert time.monotonic() - killed < 20, "twemproxy was not restarted within 20 s"
            await asyncio.sleep(0.3)
        await _repair_recorded(manager, lab, "repair:nutcracker:proxy1")
    await wait_chain_ok(lab)


async def _repair_recorded(manager: Manager, lab: Lab, key: str) -> None:
    """The watcher's cycle records its repair once the repair returned: the service may
    listen again a moment before the alert is written."""

    async def keys() -> list[str]:
        return [a.key for a in await store.alerts(manager, lab.config.cluster, open_only=False)]

    await eventually(keys, timeout=10, until=lambda found: key in found, what=key)


async def test_a_killed_stunnel_is_detected_and_restarted(lab: Lab) -> None:
    async with watching(lab) as manager:
        pidfile = "/run/stunnel-clustermgr-cache.pid"
        old = (await lab.sh("idp1", f"cat {pidfile}")).strip()
        await lab.sh("idp1", 'kill -9 "$1"', old)
        killed = time.monotonic()
        while True:
            listening = await lab.sh("idp1", "ss -Hltn 'sport = :7000' | wc -l")
            if int(listening) > 0:
                break
            assert time.monotonic() - killed < 20, "stunnel was not restarted within 20 s"
            await asyncio.sleep(0.3)
        await _repair_recorded(manager, lab, "repair:stunnel4:idp1")
    await wait_chain_ok(lab)
