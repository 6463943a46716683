"""Active health checks: the watcher takes a node whose identity app stopped out of the
load balancer at its next check (clients see no error) and puts it back once healthy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.services.context import Manager
from labfixture import SLOT, Lab, eventually, running_lab
from lblab import balance, client, oxauth_url, proxy_url, served_by

pytestmark = pytest.mark.integration

UPSTREAMS = "/etc/nginx/clustermgr/upstreams.conf"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare("clc", 251)
    base = tmp_path_factory.mktemp("lb-health-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        first = await balance(running)
        assert first["ok"], json.dumps(first, indent=1)
        yield running


async def lb_cycle(lab: Lab) -> CycleReport:
    manager = await Manager.open(lab.settings)
    watcher = Watcher(manager, cluster=lab.config.cluster, compare=None)
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
