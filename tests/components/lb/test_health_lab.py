"""Active health checks, drains and a rolling restart. The watcher takes a node whose identity app stopped out of the
load balancer at its next check (clients see no error) and puts it back once healthy; a drained node gets no traffic; a rolling restart under
a steady request loop loses no request."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from clustermgr.components import registry
from clustermgr.components.lb import ops as lb_ops
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.watch import LbWatch
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.lab.gluu.oxauth.paths import HTTPD_CERT, HTTPD_KEY, OXAUTH_PIDFILE
from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.pki.nodeweb import NGINX_TLS_INCLUDE, nginx_tls_include
from labfixture import SLOT, Lab, eventually, running_lab
from lblab import balance, client, oxauth_url, proxy_url, served_by

pytestmark = pytest.mark.integration

UPSTREAMS = "/etc/nginx/clustermgr/upstreams.conf"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("lb-health-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        first = await balance(running)
        assert first["ok"], json.dumps(first, indent=1)
        yield running


async def lb_cycle(lab: Lab) -> CycleReport:
    manager = await Manager.open(lab.settings)
    watcher = Watcher(
        manager, [LbWatch(manager)], kinds=registry.job_kinds(), cluster=lab.config.cluster
    )
    try:
        reports = [r for r in await watcher.cycle() if r.component == "lb"]
    finally:
        await watcher.close()
        await manager.close()
    assert len(reports) == 1, reports
    return reports[0]


def healthy(lab: Lab, node: str) -> bool:
    url = f"https://{lab.host(node).address}/oxauth/restv1/health-check"
    try:
        return httpx.get(url, verify=False, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def test_a_failing_node_is_taken_out_and_put_back(lab: Lab) -> None:
    quiet = await lb_cycle(lab)
    assert not quiet.opened and {b["state"] for b in quiet.snapshot["backends"]} == {"up"}
    assert quiet.snapshot["nginx"]["stub_status"]["requests"] >= 0
    await lab.sh("idp1", "service oxauth stop >/dev/null")
    try:
        out = await lb_cycle(lab)
        assert [a.key for a in out.opened] == ["backend:idp1.lab.test"], out
        states = {b["host"]: b["state"] for b in out.snapshot["backends"]}
        assert states == {"idp1.lab.test": "down", "idp2.lab.test": "up"}
        assert "down;" in await lab.sh("proxy1", f"grep {lab.host('idp1').address} {UPSTREAMS}")
        with client() as http:
            assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp2"}
            assert {served_by(http, proxy_url(lab, "/identity/x")) for _ in range(4)} == {"idp2"}
    finally:
        await lab.sh("idp1", "service oxauth start >/dev/null")
    await eventually(lambda: healthy(lab, "idp1"), what="idp1 healthy again")
    back = await lb_cycle(lab)
    assert [a.key for a in back.resolved] == ["backend:idp1.lab.test"], back
    with client() as http:
        assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp1", "idp2"}
    again = await lb_cycle(lab)
    assert not again.opened and not again.resolved


async def test_a_node_with_a_certificate_from_another_ca_is_refused_and_reported(
    lab: Lab,
) -> None:
    # idp2 serves its own self-signed certificate instead of the cluster CA's one.
    other = nginx_tls_include(HTTPD_CERT, HTTPD_KEY)
    await lab.sh(
        "idp2", 'printf %s "$2" > "$1" && service nginx reload >/dev/null', NGINX_TLS_INCLUDE, other
    )
    try:
        await asyncio.sleep(1)  # the reload's new workers
        with client() as http:
            assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp1"}
        out = await lb_cycle(lab)
        assert [a.key for a in out.opened] == ["backend:idp2.lab.test"], out
        rows = {b["host"]: b for b in out.snapshot["backends"]}
        assert rows["idp2.lab.test"]["state"] == "down"
        assert "CERTIFICATE_VERIFY_FAILED" in rows["idp2.lab.test"]["error"], rows
        assert rows["idp1.lab.test"]["healthy"], rows
        log = await lab.sh("proxy1", "tail -n 50 /var/log/nginx/error.log")
        assert "upstream SSL certificate verify error" in log, log
    finally:
        report = await balance(lab)  # puts the cluster CA's certificate back
    assert report["ok"], json.dumps(report, indent=1)
    changed = [r["title"] for r in report["hosts"]["idp2.lab.test"] if r["outcome"] == "changed"]
    assert changed == ["serve HTTPS with the cluster CA's certificate"], report
    back = await lb_cycle(lab)
    assert [a.key for a in back.resolved] == ["backend:idp2.lab.test"], back
    with client() as http:
        assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp1", "idp2"}


async def test_a_drained_node_gets_no_traffic_until_undrained(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    cluster = lab.config.cluster
    try:
        drained = await lb_ops.set_rotation(manager, cluster, "idp2.lab.test", drained=True)
        assert drained.ok, json.dumps(drained.as_dict(), indent=1)
        assert (await lb_settings.lb_settings(manager, cluster)).drained == ["idp2.lab.test"]
        with client() as http:
            assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp1"}
        out = await lb_cycle(lab)  # the watcher keeps it out, and raises no alert for it
        assert not out.opened
        assert {b["host"]: b["state"] for b in out.snapshot["backends"]}["idp2.lab.test"] == (
            "drained"
        )
        with pytest.raises(InvalidInput, match="no identity node"):
            await lb_ops.set_rotation(manager, cluster, "idp1.lab.test", drained=True)
        back = await lb_ops.set_rotation(manager, cluster, "idp2.lab.test", drained=False)
        assert back.ok
        with client() as http:
            assert {served_by(http, oxauth_url(lab)) for _ in range(10)} == {"idp1", "idp2"}
    finally:
        await manager.close()


class RequestLoop:
    """Requests one after another through the balancer, in a thread, until stopped.

    A GET whose reused keep-alive connection the balancer closed before answering
    (a reload retires the old workers) is sent again once, as browsers do for
    idempotent requests; such resends are counted apart, never as served.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.served: Counter[str] = Counter()
        self.errors: list[str] = []
        self.resent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RequestLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with client() as http:
            while not self._stop.is_set():
                try:
                    try:
                        response = http.get(self.url)
                    except httpx.RemoteProtocolError:
                        self.resent += 1
                        response = http.get(self.url)
                except httpx.HTTPError as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    self.errors.append(f"HTTP {response.status_code}: {response.text[:100]}")
                else:
                    self.served[response.headers["X-Served-By"].split(".")[0]] += 1


async def test_a_rolling_restart_under_load_loses_no_request(lab: Lab) -> None:
    pids = {n: await lab.sh(n, f"cat {OXAUTH_PIDFILE}") for n in ("idp1", "idp2")}
    manager = await Manager.open(lab.settings)
    try:
        with RequestLoop(oxauth_url(lab)) as loop:
            await asyncio.sleep(0.5)
            report = await lb_ops.rolling_restart(manager, lab.config.cluster)
            await asyncio.sleep(0.5)
    finally:
        await manager.close()
    assert report.ok, json.dumps(report.as_dict(), indent=1)
    assert loop.errors == [], loop.errors[:5]
    assert set(loop.served) == {"idp1", "idp2"} and sum(loop.served.values()) > 50, loop.served
    for node, pid in pids.items():
        assert await lab.sh(node, f"cat {OXAUTH_PIDFILE}") != pid, f"{node} was not restarted"
    sys.stderr.write(
        f"\nrolling restart: {dict(loop.served)} requests, no error, {loop.resent} resent\n"
    )
