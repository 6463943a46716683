"""The health dashboard, a cluster's alerts page and the header's badge, over HTTP against
the real app, on alerts recorded through the monitor's store as the watcher records them.

The app runs on a data dir of its own with its watcher off, so the alerts and the
badge's count are exactly what each test recorded.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from clustermgr.components import registry
from clustermgr.components.ldap.ids import server_ids
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings
from replicationdata import BROKEN, IDP1, IDP2, add_cluster
from webfixture import client, create_user, running_app, sign_in

#: Names the dashboard must show a row for: every watched component of the registry.
WATCHED = [c for c in registry.COMPONENTS if c.watch is not None]
LAGGING = Finding(f"probe:{IDP1}", Severity.WARNING, f"{IDP1}: the probe took 12 s")
REPAIRED = Finding("repair:stunnel4:idp2", Severity.WARNING, f"restarted stunnel4 on {IDP2}")


@dataclass
class HealthWeb:
    manager: Manager
    gui: httpx.AsyncClient
    api: httpx.AsyncClient
    cluster: str


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[HealthWeb]:
    """A cluster of two identity servers on an app of its own, signed in (GUI and API)."""
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    admin = await create_user(settings)
    async with (
        running_app(settings) as app,
        client(app=app) as gui,
        client(app=app, token=admin.token) as api,
    ):
        await sign_in(gui)
        manager: Manager = app.state.web.manager
        yield HealthWeb(manager, gui, api, await add_cluster(manager))


async def record(web: HealthWeb, component: str, *findings: Finding, ago: float = 0) -> None:
    at = utcnow() - timedelta(seconds=ago)
    await store.record_cycle(web.manager, Cycle(web.cluster, component, at, {}, findings=findings))


async def set_up_replication(web: HealthWeb) -> None:
    """What an LDAP apply stores first: the identity servers' server ids."""
    async with web.manager.store() as inventory:
        cluster = await inventory.cluster(web.cluster)
        await server_ids(inventory, cluster, list(cluster.servers))


def text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def health_row(html: str, component: str) -> str:
    found = re.search(rf'<tr data-component="{component}">(.*?)</tr>', html, re.S)
    assert found, f"no health row of {component}"
    return found.group(1)


def badge(html: str) -> str | None:
    found = re.search(r'<a class="badge badge-critical" id="critical-badge"[^>]*>(.*?)</a>', html)
    return found.group(1) if found else None


async def test_dashboard_shows_each_watched_component_its_state_check_and_alerts(
    web: HealthWeb,
) -> None:
    html = (await web.gui.get("/")).text
    assert WATCHED, "the registry has watched components"
    for component in WATCHED:
        row = health_row(html, component.name)
        assert component.title in text(row) and "not set up" in text(row)
    assert badge(html) is None, "no badge while no critical alert is open"

    await set_up_replication(web)
    ldap = health_row((await web.gui.get("/")).text, "ldap")
    assert "not checked yet" in text(ldap) and "none" in text(ldap)

    await record(web, "ldap", BROKEN, LAGGING)
    html = (await web.gui.get("/")).text
    ldap = health_row(html, "ldap")
    assert 'class="health health-critical">critical<' in ldap
    assert f'href="/clusters/{web.cluster}/ldap"' in ldap
    assert f'href="/clusters/{web.cluster}/alerts?component=ldap"' in ldap
    assert "2 open (1 critical, 1 warning)" in text(ldap)
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>", ldap)
    assert badge(html) == "1 critical alert"
    assert "not set up" in text(health_row(html, "cache")), "other components are unchanged"
    for path in (f"/clusters/{web.cluster}", "/jobs", f"/clusters/{web.cluster}/alerts"):
        assert badge((await web.gui.get(path)).text) == "1 critical alert", path

    await record(web, "ldap", LAGGING)  # the agreement works again
    html = (await web.gui.get("/")).text
    assert 'class="health health-warning">warning<' in health_row(html, "ldap")
    assert badge(html) is None

    await record(web, "ldap")
    ldap = health_row((await web.gui.get("/")).text, "ldap")
    assert 'class="health health-ok">ok<' in ldap and "none" in text(ldap)


async def test_alerts_page_lists_open_alerts_and_history_filtered(web: HealthWeb) -> None:
    await record(web, "ldap", BROKEN, LAGGING, ago=20)
    await record(web, "ldap", BROKEN, ago=10)  # the probe alert resolves
    await record(web, "cache", REPAIRED)
    base = f"/clusters/{web.cluster}/alerts"

    page = await web.gui.get(base)
    assert page.status_code == 200
    opened, history = sections(page.text)
    assert BROKEN.message in opened and REPAIRED.message in opened
    assert LAGGING.message not in opened
    assert LAGGING.message in history and "open" in text(history)
    assert f'href="{base}"' in (await web.gui.get(f"/clusters/{web.cluster}")).text

    opened, history = sections((await web.gui.get(base, params={"host": IDP1})).text)
    # The agreement of idp2 from idp1 and idp1's probe name idp1; the repair does not.
    assert BROKEN.message in opened and REPAIRED.message not in opened
    assert LAGGING.message in history
    opened, history = sections((await web.gui.get(base, params={"host": IDP2})).text)
    assert BROKEN.message in opened and REPAIRED.message in opened
    assert LAGGING.message not in history

    chosen = {"component": "cache", "severity": "warning", "host": ""}
    page = await web.gui.get(base, params=chosen)
    opened, history = sections(page.text)
    assert REPAIRED.message in opened and BROKEN.message not in history
    assert '<option value="cache" selected>' in page.text
    assert '<option value="warning" selected>' in page.text
    opened, _ = sections((await web.gui.get(base, params={"severity": "critical"})).text)
    assert BROKEN.message in opened and REPAIRED.message not in opened

    for query, message in (
        ({"component": "nosuch"}, "no component 'nosuch'"),
        ({"host": "idp9.repl.test"}, "no host of cluster"),
        ({"severity": "fatal"}, "no severity 'fatal'"),
        ({"before": "soon"}, "invalid page 'soon'"),
    ):
        refused = await web.gui.get(base, params=query)
        assert refused.status_code == 400, query
        assert message in html_lib.unescape(refused.text), query
        assert 'id="f-component"' in refused.text, "the form stays"
        assert BROKEN.message not in refused.text, "no list under a refused filter"
    assert (await web.gui.get("/clusters/nosuch/alerts")).status_code == 404


def sections(html: str) -> tuple[str, str]:
    """The open alerts' section and the history's."""
    opened = html.split('<h2 id="open">', 1)[1].split('<h2 id="history">', 1)
    return opened[0], opened[1]


async def test_api_filters_a_clusters_alerts(web: HealthWeb) -> None:
    await record(web, "ldap", BROKEN, LAGGING, ago=10)
    await record(web, "ldap", BROKEN)
    await record(web, "cache", REPAIRED)
    url = f"/api/v1/clusters/{web.cluster}/alerts"

    async def keys(**query: str) -> list[str]:
        answer = await web.api.get(url, params=query)
        assert answer.status_code == 200, answer.text
        return [a["key"] for a in answer.json()["items"]]

    assert await keys() == [REPAIRED.key, BROKEN.key]
    assert await keys(state="all", host=IDP1) == [LAGGING.key, BROKEN.key]
    assert await keys(state="all", severity="warning") == [REPAIRED.key, LAGGING.key]
    assert await keys(component="cache", host=IDP2) == [REPAIRED.key]
    assert await keys(component="", host="", severity="critical") == [BROKEN.key]

    refused = await web.api.get(url, params={"component": "nosuch"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_input"
    assert "ldap" in refused.json()["hint"]
    refused = await web.api.get(url, params={"host": "other.example.org"})
    assert refused.status_code == 400 and IDP1 in refused.json()["hint"]
    assert (await web.api.get(url, params={"severity": "fatal"})).status_code == 422
