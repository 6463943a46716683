"""The logs page in a real browser (Chromium via Playwright), against ``clustermgr serve``
on a data dir of its own (watcher off) holding the sample records of the last minutes:
a search highlights its terms and draws its histogram, a hit opens its context, and
the live tail shows a record stored during the test, not while paused, then after.
Screenshots go to ``test-artifacts/screenshots/`` (``logs-*.png``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from browsing import chromium, shot, sign_in_to, tab_on, until
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.logstore.records import LogRecord, ResumePoint
from clustermgr.logstore.store import log_store
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role
from logsamples import sample_records
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

CLUSTER = "logged"
SERVERS = (("idp1", Role.IDENTITY), ("idp2", Role.IDENTITY), ("lb", Role.PROXY))


async def put(settings: Settings, records: list[LogRecord]) -> None:
    """Store records as the collector does (one ingest per host and source)."""
    manager = await Manager.open(settings)
    try:
        store = log_store(manager)
        key = lambda r: (r.host, r.source)  # noqa: E731
        for (host, source), group in groupby(sorted(records, key=key), key=key):
            await store.ingest(CLUSTER, host, source, list(group), ResumePoint())
    finally:
        await manager.close()


async def recorded(settings: Settings) -> None:
    manager = await Manager.open(settings)
    try:
        await clusters.create_cluster(manager, CLUSTER)
        async with manager.store() as inventory:
            for octet, (host, role) in enumerate(SERVERS, start=10):
                await inventory.add_server(
                    ServerSpec(CLUSTER, host, f"192.0.2.{octet}", role), None, []
                )
    finally:
        await manager.close()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    # The samples, and a quiet hour before them: the histogram has bars to draw.
    background = [
        LogRecord(start + timedelta(seconds=37 * n), "idp1", "syslog", "info", f"cron tick {n}")
        for n in range(60)
    ]
    await put(settings, background + sample_records(start, timedelta(minutes=3)))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser]]:
    settings = Settings(data_dir=tmp_path / "data")
    admin = await create_user(settings)
    await recorded(settings)
    server = ManagerProcess(
        settings, free_port(), tmp_path / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


def refused(n: int) -> LogRecord:
    return LogRecord(
        datetime.now(UTC), "idp2", "syslog", "error", f"sshd[9{n}]: connect from 10.9.9.{n} refused"
    )


async def live_state(page: Page, state: str) -> None:
    await until(page, f"document.querySelector('.logs-live').dataset.state === '{state}'")


async def test_search_context_and_the_live_tail(served: tuple[ManagerProcess, WebUser]) -> None:
    server, admin = served
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await sign_in_to(page, admin, f"/clusters/{CLUSTER}/logs")
        await expect(page.get_by_role("heading", name=f"Logs of {CLUSTER}")).to_be_visible()
        await page.get_by_role("searchbox", name="Search").fill("refused")
        await page.get_by_role("button", name="Search", exact=True).click()
        await expect(page).to_have_url(f"{server.url}/clusters/{CLUSTER}/logs?q=refused&from=1h")
        rows = page.locator("#log-results tbody tr")
        await expect(rows).to_have_count(2)
        await expect(page.locator("#log-results mark")).to_have_text(["refused", "refused"])
        await expect(page.locator(".logs-histogram canvas")).to_have_count(1)
        await until(page, "document.querySelector('.logs-histogram').dataset.drawn === '2'")
        await expect(rows.first.locator(".level")).to_have_text("warning")
        await shot(page, "logs-search")
        # Dragging across the histogram searches that stretch: a link of from and to.
        plot = page.locator(".logs-histogram .u-over")
        box = await plot.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        await page.mouse.move(box["x"] + box["width"] * 0.05, y)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
        await page.mouse.up()
        await expect(page).to_have_url(re.compile(r"q=refused&from=[-0-9T%3A]+Z&to=[-0-9T%3A]+Z$"))
        await expect(rows).to_have_count(1)
        await expect(page.locator(".logs-range a[aria-current]")).to_have_count(0)

        # Every record of the hour, then the context of one hit on its host.
        await page.goto(f"/clusters/{CLUSTER}/logs")
        await until(page, "Number(document.querySelector('.logs-histogram').dataset.drawn) > 60")
        await page.get_by_role("searchbox", name="Search").fill('"read timed out"')
        await page.get_by_role("button", name="Search", exact=True).click()
        await expect(rows).to_have_count(1)
        await rows.first.get_by_role("link", name="show context").click()
        context = page.locator("tr.context-row")
        await expect(context).to_have_count(1)
        await expect(context.locator("tr.hit")).to_have_count(1)
        await expect(context.locator("tr.hit mark")).to_have_text("Read timed out")
        assert await context.locator("tbody tr").count() > 5
        await shot(page, "logs-context")
        # Once loaded, the link hides the lines and shows them again.
        toggle = rows.first.get_by_role("link", name="hide context")
        await toggle.click()
        await expect(context).to_be_hidden()
        await rows.first.get_by_role("link", name="show context").click()
        await expect(context).to_be_visible()
        await expect(page.locator("tr.context-row")).to_have_count(1)

        # A query the language cannot read: the error above the box, the box kept.
        await page.get_by_role("searchbox", name="Search").fill('"unclosed')
        await page.get_by_role("button", name="Search", exact=True).click()
        await expect(page.locator(".logs-search .alert")).to_contain_text("quote")
        await expect(page.get_by_role("searchbox", name="Search")).to_have_value('"unclosed')
        await shot(page, "logs-error")

        # The live tail of "refused": a record stored now shows; paused, one does not
        # until Live is pressed again.
        await page.goto(f"/clusters/{CLUSTER}/logs?q=refused")
        live = page.get_by_role("button", name="Live")
        await live.click()
        await live_state(page, "live")
        await put(server.settings, [refused(1)])
        tail = page.locator(".live-table tbody tr")
        await expect(tail).to_have_count(1)
        await expect(tail.first.locator("mark")).to_have_text("refused")
        await live.click()
        await live_state(page, "paused")
        await expect(live).to_have_attribute("aria-pressed", "false")
        await put(server.settings, [refused(2), refused(3)])
        await asyncio.sleep(2)  # four reads of the tail, were it still following
        await expect(tail).to_have_count(1)
        await live.click()
        await expect(tail).to_have_count(3)
        await expect(tail.nth(2)).to_contain_text("10.9.9.3")
        await expect(page.locator(".live-status")).to_contain_text("Following")
        await shot(page, "logs-tail")
