"""The charts of what the watcher really scraped: ``clustermgr serve`` (its watcher
scraping every 2 s) on a lab of bare servers whose node exporters run, opened in
Chromium.  Screenshots go to ``test-artifacts/screenshots/`` (``metrics-lab-*.png``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from browsing import chromium, shot, sign_in_to, tab_on, until
from labfixture import Lab
from metricslab import exporter_lab
from polling import eventually
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(metrics_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with exporter_lab(metrics_lab, tmp_path_factory.mktemp("charts-lab")) as running:
        yield running


@pytest.fixture
async def served(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ManagerProcess, WebUser]]:
    admin = await create_user(lab.settings)
    env = {"CLUSTERMGR_METRICS_SCRAPE_SECONDS": "2", "CLUSTERMGR_WATCH_INTERVAL": "2"}
    log = tmp_path_factory.mktemp("charts-serve") / "serve.log"
    server = ManagerProcess(lab.settings, free_port(), log, env=env)
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


async def busy_now(page: Page, chart: str) -> str:
    """Read the window again; the chart's legend value (the latest step's)."""
    await page.get_by_role("button", name="1 h", exact=True).click()
    value = page.locator(f"[id='chart-{chart}'] .u-legend .u-series:not(:first-child) .u-value")
    return (await value.first.inner_text(timeout=5000)).strip() if await value.count() else ""


async def minutes_ago(page: Page, minutes: int) -> str:
    """The browser's local time ``minutes`` ago, as a datetime-local field takes it."""
    return str(
        await page.evaluate(
            f"(() => {{ const at = new Date(Date.now() - {minutes * 60000});"
            " return new Date(at - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);"
            " })()"
        )
    )


async def recent_steps(page: Page, chart: str) -> list[int]:
    """Show the last minute or two (typed in the window's fields, which hold minutes: from
    the minute before this one to the next); each line's steps with a value."""
    loaded = "Number(document.querySelector('.metrics').dataset.loaded)"
    before = await page.evaluate(loaded)
    await page.locator(".metrics-custom input[name='from']").fill(await minutes_ago(page, 1))
    await page.locator(".metrics-custom input[name='to']").fill(await minutes_ago(page, -1))
    await page.get_by_role("button", name="Show").click()
    await until(page, f"{loaded} > {before}")
    found: list[int] = await page.evaluate(
        f"(() => {{ const u = document.getElementById('{chart}').uplot;"
        " return u ? u.data.slice(1).map((d) => d.filter((v) => v !== null).length) : []; })()"
    )
    return found


async def test_scraped_figures_are_charted_within_30_s(
    lab: Lab, served: tuple[ManagerProcess, WebUser]
) -> None:
    server, admin = served
    cluster = lab.config.cluster
    hosts = [h.fqdn for h in lab.config.hosts()]
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await sign_in_to(page, admin, f"/clusters/{cluster}/metrics/{hosts[0]}")
        await expect(page.get_by_role("heading", name=f"Metrics of {hosts[0]}")).to_be_visible()
        value = await eventually(
            lambda: busy_now(page, f"{hosts[0]}-cpu"),
            timeout=30,
            interval=2,
            what="the CPU chart has a value",
            until=lambda v: v.endswith(" %"),
        )
        assert value.endswith(" %")
        # The last minutes, typed in: a point per two scrapes, a line of them.
        found = await eventually(
            lambda: recent_steps(page, f"chart-{hosts[0]}-cpu"),
            timeout=60,
            interval=2,
            what="three steps of every CPU mode in the last minutes",
            until=lambda found: found and min(found) >= 3,
        )
        assert len(found) >= 4, "a line per CPU mode"
        await expect(page.locator(".metrics-status")).to_contain_text("one point per 4 s")
        await expect(page.locator(f"[id='chart-{hosts[0]}-cpu'] canvas")).to_have_count(1)
        await expect(
            page.locator(f"[id='chart-{hosts[0]}-memory_used_bytes'] canvas")
        ).to_have_count(1)
        await shot(page, "metrics-lab-server")

        await page.goto(f"/clusters/{cluster}/metrics")
        for host in hosts:
            await expect(page.locator(f"[id='chart-{host}-cpu'] canvas")).to_have_count(1)
            await expect(page.locator(f"[id='chart-{host}-load'] canvas")).to_have_count(1)
        assert await recent_steps(page, f"chart-{hosts[-1]}-cpu")
        await shot(page, "metrics-lab-overview")
