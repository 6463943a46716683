"""The monitoring's charts in a real browser (Chromium via Playwright), against
``clustermgr serve`` on a data dir of its own (watcher off) holding two hours of
series written as a scrape writes them, rolled up, with a gap where a server was
away.  Screenshots go to ``test-artifacts/screenshots/`` (``metrics-*.png``)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from browsing import chromium, shot, shot_of, sign_in_to, tab_on, until
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.monitor.series import ingest, rollup
from clustermgr.monitor.series.ingest import Point, SeriesIds
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

CLUSTER = "charted"
SERVERS = (("idp1", Role.IDENTITY), ("idp2", Role.IDENTITY), ("proxy", Role.PROXY))
#: Two hours of points, one every 10 s, up to a whole minute before now.
SPAN, EVERY = 2 * 3600, 10
#: idp2 was away from 50 to 35 minutes before the end: a gap, not zeros.
AWAY = (3000, 2100)
GIB = 2**30


def readings(host: str, role: Role, n: int) -> list[Point]:
    wave = math.sin(n / 40 + sum(map(ord, host))) * 0.5 + 0.5
    user = 0.1 + 0.3 * wave
    points = [
        *(
            Point(host, "cpu", (("mode", mode),), share)
            for mode, share in (
                ("user", user),
                ("system", 0.06),
                ("iowait", 0.02),
                ("idle", 1 - user - 0.08),
            )
        ),
        Point(host, "load1", (), 0.4 + 1.5 * wave),
        Point(host, "load5", (), 0.5 + wave),
        Point(host, "load15", (), 0.6 + 0.5 * wave),
        Point(host, "memory_used_bytes", (), (1.2 + 0.4 * wave) * GIB),
        Point(host, "memory_available_bytes", (), (2.8 - 0.4 * wave) * GIB),
        Point(host, "swap_used_bytes", (), 0.0),
        Point(host, "disk_used_bytes", (("mount", "/"),), (11 + n / 720) * GIB),
        Point(host, "disk_size_bytes", (("mount", "/"),), 40 * GIB),
        Point(host, "network_receive_bytes", (("device", "eth0"),), 200_000 * wave),
        Point(host, "network_transmit_bytes", (("device", "eth0"),), 90_000 * wave),
        Point(host, "tcp_connections", (), 40 + 20 * wave),
        Point(host, "uptime_seconds", (), 86400 * 3 + n * EVERY),
    ]
    if role is Role.IDENTITY:
        points += [
            *(
                Point(host, "ldap_operations", (("op", op),), rate * wave)
                for op, rate in (("bind", 30), ("search", 120), ("modify", 8))
            ),
            Point(host, "ldap_connections", (), 12 + 6 * wave),
            Point(host, "redis_commands", (), 400 * wave + 50),
            Point(host, "redis_memory_used_bytes", (), 60 * 2**20 + n * 4096),
            Point(host, "redis_hit_ratio", (), 0.9 + 0.08 * wave),
            Point(host, "redis_clients", (), 8.0),
        ]
    else:
        points += [
            Point(host, "nginx_requests", (), 150 * wave + 20),
            *(
                Point(host, "nginx_connections", (("state", state),), count * wave)
                for state, count in (("active", 30), ("reading", 2), ("writing", 5))
            ),
            *(
                Point(host, "twemproxy_requests", (("server", s),), 200 * wave)
                for s in ("idp1", "idp2")
            ),
        ]
    return points


async def recorded(settings: Settings, now: int) -> None:
    manager = await Manager.open(settings)
    try:
        await clusters.create_cluster(manager, CLUSTER)
        async with manager.store() as inventory:
            for octet, (host, role) in enumerate(SERVERS, start=10):
                spec = ServerSpec(CLUSTER, host, f"192.0.2.{octet}", role)
                await inventory.add_server(spec, None, [])
        end = now // 60 * 60 - 60
        start = end - SPAN
        await rollup.roll(manager, CLUSTER, start)
        ids = SeriesIds(CLUSTER)
        for n in range(SPAN // EVERY):
            at = start + n * EVERY
            away = AWAY[1] <= end - at < AWAY[0]
            points = [
                p
                for host, role in SERVERS
                if not (host == "idp2" and away)
                for p in readings(host, role, n)
            ]
            await ingest.write(manager, ids, at, points)
        await rollup.roll(manager, CLUSTER, end + 60)
    finally:
        await manager.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser]]:
    settings = Settings(data_dir=tmp_path / "data")
    admin = await create_user(settings)
    await recorded(settings, int(time.time()))
    server = ManagerProcess(
        settings, free_port(), tmp_path / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


async def reads(page: Page) -> int:
    """How many reads the page's chart block has drawn."""
    loaded = await page.evaluate("document.querySelector('.metrics').dataset.loaded || '0'")
    return int(loaded)


async def drawn_after(page: Page, before: int) -> None:
    await until(page, f"Number(document.querySelector('.metrics').dataset.loaded) > {before}")


async def legend_values(page: Page, chart: str) -> list[str]:
    values = page.locator(f"#chart-{chart} .u-legend .u-series:not(:first-child) .u-value")
    return [v.strip() for v in await values.all_inner_texts()]


async def test_the_overview_and_a_server_page_draw_zoom_and_read_out(
    served: tuple[ManagerProcess, WebUser],
) -> None:
    server, admin = served
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await sign_in_to(page, admin, f"/clusters/{CLUSTER}/metrics")
        await expect(page.get_by_role("heading", name=f"Metrics of {CLUSTER}")).to_be_visible()
        await drawn_after(page, 0)
        figures = page.locator("figure.metric-chart")
        assert await figures.count() == 3 * 4 + 4
        await expect(page.locator("figure.metric-chart canvas")).to_have_count(3 * 4 + 4)
        status = page.locator(".metrics-status")
        await expect(status).to_contain_text("raw points")
        # Not hovered, the legend reads the latest values, in their units.
        [busy] = await legend_values(page, "idp1-cpu")
        assert busy.endswith(" %") and 10 < float(busy.split()[0]) < 50, busy
        [memory] = await legend_values(page, "idp1-memory")
        assert memory.endswith(" %"), memory
        assert len(await legend_values(page, "idp1-load")) == 3
        ldap = await legend_values(page, "ldap-ops")
        assert len(ldap) == 2 and all(v.endswith("ops/s") for v in ldap), ldap
        # The quarter of an hour idp2 was away shows as a gap (29 null steps of 30 s);
        # both end with the minute or two nothing was written for yet.
        gaps = "(id) => document.getElementById(id).uplot.data[1].filter((v) => v === null).length"
        away = await page.evaluate(gaps, "chart-idp2-cpu")
        assert away - await page.evaluate(gaps, "chart-idp1-cpu") == 29
        await shot(page, "metrics-overview")
        # The charts' JSON twin is the API's answer, which the page's session may read.
        twin = await page.request.get(
            str(await page.locator(".metrics-json").get_attribute("href"))
        )
        assert twin.ok, await twin.text()
        assert (await twin.json())["resolution"] == "raw"

        # A range button reads again; a week comes from the minute roll-ups.
        for label, words in (("6 h", "raw points"), ("7 d", "1-minute roll-ups")):
            before = await reads(page)
            await page.get_by_role("button", name=label, exact=True).click()
            await drawn_after(page, before)
            await expect(page.get_by_role("button", name=label, exact=True)).to_have_attribute(
                "aria-pressed", "true"
            )
            await expect(status).to_contain_text(words)
        await expect(page.locator("#chart-idp1-cpu canvas")).to_have_count(1)
        await page.get_by_role("button", name="1 h", exact=True).click()
        await expect(status).to_contain_text("raw points")

        # Dragging across a chart shows that stretch of time only.
        plot = page.locator("#chart-idp1-cpu .u-over")
        box = await plot.bounding_box()
        assert box is not None
        before = await reads(page)
        y = box["y"] + box["height"] / 2
        await page.mouse.move(box["x"] + box["width"] * 0.3, y)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
        await page.mouse.up()
        await drawn_after(page, before)
        span = await page.evaluate(
            "(() => { const d = document.getElementById('chart-idp1-cpu').uplot.data[0];"
            " return d[d.length - 1] - d[0]; })()"
        )
        assert 600 < span < 1500, span
        await expect(page.locator("button.range[aria-pressed='true']")).to_have_count(0)
        assert await page.locator(".metrics-custom input[name='from']").input_value()
        # Hovering reads the values at that time.
        await page.mouse.move(box["x"] + box["width"] * 0.5, y)
        await expect(page.locator("#chart-idp1-cpu .u-legend .u-series").first).not_to_contain_text(
            "latest"
        )
        await shot_of(page.locator("#chart-idp1-cpu"), "metrics-zoomed-hover")

        # A window typed in: its start and end (local time).
        before = await reads(page)
        start = await page.evaluate(
            "(() => { const d = document.getElementById('chart-idp1-cpu').uplot.data[0];"
            " const at = new Date((d[0] - 7200) * 1000);"
            " return new Date(at - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16); })()"
        )
        await page.locator(".metrics-custom input[name='from']").fill(start)
        await page.get_by_role("button", name="Show").click()
        await drawn_after(page, before)
        await expect(status).to_contain_text("raw points")

        await page.goto(f"/clusters/{CLUSTER}/metrics/proxy")
        await drawn_after(page, 0)
        await expect(page.locator("#chart-proxy-nginx_requests canvas")).to_have_count(1)
        assert (await legend_values(page, "proxy-nginx_requests"))[0].endswith("req/s")
        assert (await legend_values(page, "proxy-uptime_seconds"))[0].endswith(" d")
        await shot(page, "metrics-server")

        await page.goto(f"/clusters/{CLUSTER}/cache")
        await drawn_after(page, 0)
        await expect(page.locator("#chart-redis_commands canvas")).to_have_count(1)
        await shot_of(page.locator(".metrics"), "metrics-cache-section")
