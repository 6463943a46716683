"""The replication page on what a watcher recorded: topology coloured, lag, probes, chart.

The cluster and its cycles come from :mod:`replicationdata`, written through the
monitor's store as the watcher writes them.
"""

from __future__ import annotations

import re

import httpx
import pytest

from clustermgr.core.manager import Manager
from replicationdata import IDP1, IDP2, record

pytestmark = pytest.mark.integration


def arrow_class(html: str, consumer: str, provider: str) -> str:
    found = re.search(
        rf'<line class="arrow (health-\w+)"[^>]*data-consumer="{re.escape(consumer)}" '
        rf'data-provider="{re.escape(provider)}"',
        html,
    )
    assert found, f"no arrow {provider} -> {consumer}"
    return found.group(1)


async def test_page_before_any_watcher_cycle(gui: httpx.AsyncClient, identity_cluster: str) -> None:
    html = (await gui.get(f"/clusters/{identity_cluster}/ldap")).text
    assert "No watcher cycle has checked" in html
    assert arrow_class(html, IDP1, IDP2) == "health-unknown"
    assert "No probe yet." in html


async def test_broken_agreement_shows_red_then_green_once_resolved(
    gui: httpx.AsyncClient, app_manager: Manager, identity_cluster: str
) -> None:
    for ago in (900, 600, 300):
        await record(app_manager, identity_cluster, broken=False, ago=ago)
    await record(app_manager, identity_cluster, broken=True)
    answer = await gui.get(f"/clusters/{identity_cluster}/ldap")
    assert answer.status_code == 200
    html = answer.text
    assert arrow_class(html, IDP2, IDP1) == "health-critical"
    assert arrow_class(html, IDP1, IDP2) == "health-ok"
    assert "1 open alert" in html and "TLS fails" in html
    assert "certificate verify failed" in html and "42.0 s" in html
    probes = html[html.index('data-chart="probe-chart"') : html.index('id="lag-chart"')]
    assert probes.count('<polyline class="series') == 1, "one line: probes written on idp1"
    assert "(latest 50 ms, 4 points)" in probes
    lag = html[html.index('id="lag-chart"') :]
    assert re.match(
        r'id="lag-chart">[^<]*</h3>\s*<p class="hint" data-chart="lag-chart">Nothing', lag
    )
    assert f'hx-get="/clusters/{identity_cluster}/ldap/live"' in html

    await record(app_manager, identity_cluster, broken=False)
    live = await gui.get(f"/clusters/{identity_cluster}/ldap/live")
    assert live.status_code == 200 and "<h1" not in live.text, "a part of the page, no layout"
    assert arrow_class(live.text, IDP2, IDP1) == "health-ok"
    assert "No open alert." in live.text
    assert re.search(r"TLS fails.*?<td><time", live.text, re.S), "the alert is resolved"


async def test_unknown_cluster_is_404(gui: httpx.AsyncClient) -> None:
    for path in ("/clusters/nosuch/ldap", "/clusters/nosuch/ldap/live"):
        assert (await gui.get(path)).status_code == 404
