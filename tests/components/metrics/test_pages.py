"""The monitoring's pages: the cluster overview, a page per server, the charts'
blocks on the component pages, and the API's reads with the GUI's session."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from clustermgr.components import registry
from clustermgr.components.metrics.catalog import BY_NAME, CATALOG
from clustermgr.components.metrics.charts import SERVICE_RATES, host_charts, host_summary
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.monitor.series import ingest
from clustermgr.monitor.series.ingest import Point, SeriesIds
from clustermgr.services import clusters
from clustermgr.topology import Role
from webfixture import FreshWeb, client, sign_in

pytestmark = pytest.mark.integration

CLUSTER = "charts"
SERVERS = (("idp1", Role.IDENTITY), ("idp2", Role.IDENTITY), ("proxy", Role.PROXY))


async def add_servers(manager: Manager) -> None:
    await clusters.create_cluster(manager, CLUSTER)
    async with manager.store() as inventory:
        for octet, (host, role) in enumerate(SERVERS, start=10):
            await inventory.add_server(
                ServerSpec(CLUSTER, host, f"192.0.2.{octet}", role), None, []
            )


class Elements(HTMLParser):
    """Every element's tag and attributes, and the text of each button and script."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[int, str] = {}
        self._open: int | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("button", "script"):
            self._open = len(self.found) - 1
            self.texts[self._open] = ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.texts[self._open] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("button", "script"):
            self._open = None

    def select(self, tag: str, css_class: str = "") -> list[dict[str, str]]:
        return [
            a for t, a in self.found if t == tag and css_class in [*a.get("class", "").split(), ""]
        ]

    def text_of(self, tag: str, css_class: str) -> list[str]:
        return [
            self.texts[i].strip()
            for i, (t, a) in enumerate(self.found)
            if t == tag and css_class in a.get("class", "").split()
        ]


def charts_of(html: str) -> dict[str, dict[str, str]]:
    """Each chart block's id and data-* attributes."""
    return {
        f["id"]: {k[5:]: v for k, v in f.items() if k.startswith("data-")}
        for f in Elements(html).select("figure", "metric-chart")
    }


def test_every_chart_reads_series_of_the_catalog() -> None:
    specs = [*host_summary("h"), *SERVICE_RATES, *(c for r in Role for c in host_charts("h", r))]
    assert {n for s in specs for n in s.wanted} <= set(BY_NAME)
    for component in registry.COMPONENTS:
        assert set(component.metrics_series) <= set(BY_NAME), component.name
    identity = {c.series[0] for c in host_charts("h", Role.IDENTITY)}
    proxy = {c.series[0] for c in host_charts("h", Role.PROXY)}
    assert {"cpu", "ldap_operations", "redis_commands"} <= identity
    assert not {"nginx_requests", "twemproxy_requests"} & identity
    assert {"cpu", "nginx_requests", "twemproxy_requests"} <= proxy
    assert identity | proxy == {s.name for s in CATALOG}, "a series no page shows"


async def test_the_overview_and_the_server_pages_lay_out_their_charts(
    fresh_web: FreshWeb,
) -> None:
    await add_servers(fresh_web.app.state.web.manager)
    async with client(app=fresh_web.app) as gui:
        anonymous = await gui.get(f"/clusters/{CLUSTER}/metrics")
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        await sign_in(gui)
        overview = await gui.get(f"/clusters/{CLUSTER}/metrics")
        assert overview.status_code == 200, overview.text
        charts = charts_of(overview.text)
        for host, _ in SERVERS:
            for kind in ("cpu", "memory", "disk", "load"):
                assert charts[f"chart-{host}-{kind}"]["host"] == host
        assert charts["chart-idp1-cpu"] == {
            "series": "cpu",
            "host": "idp1",
            "unit": "ratio",
            "drop": "mode=idle",
            "total": "1",
        }
        assert charts["chart-proxy-disk"]["per"] == "disk_size_bytes"
        for spec in SERVICE_RATES:
            assert "host" not in charts[f"chart-{spec.key}"]
        page = Elements(overview.text)
        [block] = page.select("div", "metrics")
        assert block["data-source"] == f"/api/v1/clusters/{CLUSTER}/metrics"
        assert page.text_of("button", "range") == [
            "1 h",
            "6 h",
            "24 h",
            "7 d",
            "30 d",
            "1 y",
        ]
        scripts = [s.get("src", "") for s in page.select("script")]
        assert any(re.match(r"/static/vendor/uPlot-[\d.]+\.iife\.min\.js\?v=", s) for s in scripts)
        assert any(s.startswith("/static/metrics.js?v=") for s in scripts)
        assert all(scripts), "the app's CSP forbids inline scripts"
        assert {"href": f"/clusters/{CLUSTER}/metrics/proxy"} in page.select("a")

        server = await gui.get(f"/clusters/{CLUSTER}/metrics/proxy")
        assert server.status_code == 200, server.text
        [block] = Elements(server.text).select("div", "metrics")
        assert block["data-host"] == "proxy"
        assert set(charts_of(server.text)) == {
            f"chart-proxy-{c.series[0]}" for c in host_charts("proxy", Role.PROXY)
        }
        for missing in (f"/clusters/{CLUSTER}/metrics/nowhere", "/clusters/nowhere/metrics"):
            answer = await gui.get(missing)
            assert answer.status_code == 404, missing
            assert "nowhere" in answer.text


async def test_a_component_page_charts_the_series_it_declares(fresh_web: FreshWeb) -> None:
    await add_servers(fresh_web.app.state.web.manager)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui)
        for component in ("lb", "cache"):
            page = await gui.get(f"/clusters/{CLUSTER}/{component}")
            assert page.status_code == 200, page.text
            declared = next(c for c in registry.COMPONENTS if c.name == component)
            charts = charts_of(page.text)
            assert [c["series"] for c in charts.values()] == list(declared.metrics_series)
            assert all("host" not in c for c in charts.values())
            assert "/static/metrics.js?v=" in page.text


async def test_the_api_reads_with_the_gui_session_and_only_reads(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await add_servers(manager)
    now = int(time.time())
    for n in range(6):
        await ingest.write(
            manager, SeriesIds(CLUSTER), now - 600 + 60 * n, [Point("idp1", "load1", (), 1.0)]
        )
    async with client(app=fresh_web.app) as gui:
        assert (await gui.get(f"/api/v1/clusters/{CLUSTER}/metrics")).status_code == 401
        await sign_in(gui)
        read = await gui.get(
            f"/api/v1/clusters/{CLUSTER}/metrics", params={"series": "load1", "from": now - 600}
        )
        assert read.status_code == 200, read.text
        [load] = read.json()["series"]
        assert load["title"] == BY_NAME["load1"].title and load["host"] == "idp1"
        # No step asked: each holds at least two of the cluster's scrapes (10 s each).
        assert read.json()["step"] >= 2 * manager.settings.metrics_scrape_seconds
        # A change still needs a token, whatever the session.
        change = await gui.post("/api/v1/clusters", json={"name": "by-cookie"})
        assert change.status_code == 401, change.text
        gui.cookies.clear()
        assert (await gui.get(f"/api/v1/clusters/{CLUSTER}/metrics")).status_code == 401


async def test_a_servers_own_page_links_its_metrics_page(fresh_web: FreshWeb) -> None:
    await add_servers(fresh_web.app.state.web.manager)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui)
        detail = await gui.get(f"/servers/{CLUSTER}/idp1")
        assert detail.status_code == 200, detail.text
        links = [a["href"] for a in Elements(detail.text).select("a")]
        target = f"/clusters/{CLUSTER}/metrics/idp1"
        assert target in links
        assert "Monitoring: charts of this server" in detail.text
        charts = await gui.get(target)
        assert charts.status_code == 200 and "chart-idp1-cpu" in charts_of(charts.text)
