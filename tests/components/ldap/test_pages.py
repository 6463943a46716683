"""The replication page on what a watcher recorded: topology coloured, lag, probes, chart.

The cluster and its cycles come from :mod:`replicationdata`, written through the
monitor's store as the watcher writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from clustermgr.components.ldap.ids import server_ids
from clustermgr.core.manager import Manager
from clustermgr.settings import Settings
from replicationdata import IDP1, IDP2, add_cluster, record
from webfixture import client, create_user, running_app, sign_in

pytestmark = pytest.mark.integration


def arrow_class(html: str, consumer: str, provider: str) -> str:
    found = re.search(
        rf'<line class="arrow (health-\w+)"[^>]*data-consumer="{re.escape(consumer)}" '
        rf'data-provider="{re.escape(provider)}"',
        html,
    )
    assert found, f"no arrow {provider} -> {consumer}"
    return found.group(1)


async def test_page_before_replication_is_set_up_says_so(
    gui: httpx.AsyncClient, identity_cluster: str
) -> None:
    html = (await gui.get(f"/clusters/{identity_cluster}/ldap")).text
    assert "Not set up yet" in html
    assert f"Replication is not set up on {identity_cluster}" in html
    assert "<line" not in html and "could not be checked" not in html, "no broken arrows"
    assert "Plan replication" in html
    assert "Status now" not in html and "Compare data" not in html


async def test_page_before_any_watcher_cycle(tmp_path: Path) -> None:
    """Replication set up (server ids stored), not checked yet: a manager whose watcher is off."""
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    admin = await create_user(settings)
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        name = await add_cluster(manager)
        async with manager.store() as store:
            cluster = await store.cluster(name)
            await server_ids(store, cluster, list(cluster.servers), keep=True)
        async with client(app=app) as gui:
            await sign_in(gui, admin.username, admin.password)
            html = (await gui.get(f"/clusters/{name}/ldap")).text
    assert "Not set up yet" not in html
    assert "The watcher is off in this manager" in html
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
