"""The notifications page in a real browser (Chromium via Playwright), against
``clustermgr serve`` with its dispatcher: a webhook channel added by clicks, a test sent
to a receiver on 127.0.0.1, and a channel whose receiver is gone shown as failing once an
alert's message could not be sent.  Screenshots go to ``test-artifacts/screenshots/``
(``notify-*.png``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from browsing import chromium, shot, tab_on
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings
from receivers import http_receiver
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

DOWN = Finding("node-down:idp2.example.org", Severity.CRITICAL, "idp2: slapd does not answer")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser]]:
    settings = Settings(data_dir=tmp_path / "data")
    admin = await create_user(settings)
    server = ManagerProcess(settings, free_port(), tmp_path / "serve.log")
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


async def add_webhook(page: Page, name: str, url: str) -> None:
    form = page.get_by_role("form", name="Add a webhook channel")
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Least severity").select_option("critical")
    await form.get_by_label("Webhook URL").fill(url)
    await form.get_by_role("button", name="Add the webhook channel").click()
    await expect(page.get_by_role("status")).to_have_text("Channel added.")


async def test_add_a_webhook_by_clicks_send_a_test_and_see_a_failing_channel(
    served: tuple[ManagerProcess, WebUser],
) -> None:
    server, admin = served
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await page.goto("/")
        await page.get_by_label("User name").fill(admin.username)
        await page.get_by_label("Password").fill(admin.password)
        await page.get_by_role("button", name="Sign in").click()
        await (
            page.get_by_role("navigation", name="Main")
            .get_by_role("link", name="Notifications")
            .click()
        )
        await expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
        await shot(page, "notify-empty")

        with http_receiver() as receiver:
            await add_webhook(page, "ops-hook", receiver.url)
            table = page.get_by_role("table", name=re.compile("Where the notifications go"))
            row = table.get_by_role("row", name=re.compile("ops-hook"))
            await expect(row).to_contain_text("critical and above")
            await expect(row).to_contain_text("ok")
            await row.get_by_role("button", name="Send a test through ops-hook").click()
            await expect(page.get_by_role("status")).to_have_text(
                "Test message sent: the relay or receiver took it."
            )
            (body,) = receiver.bodies
            assert body["event"] == "test" and "ops-hook" in body["message"]
            await shot(page, "notify-test-sent")

        gone = f"http://127.0.0.1:{free_port()}/hook"
        await add_webhook(page, "gone-hook", gone)
        manager = await Manager.open(server.settings)
        try:
            await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN]))
        finally:
            await manager.close()
        row = page.get_by_role("row", name=re.compile("gone-hook"))
        for _ in range(40):  # the dispatcher tries within a second or two
            await page.reload()
            if "failing" in (await row.inner_text()):
                break
            await page.wait_for_timeout(250)
        await expect(row).to_contain_text("failing since")
        await expect(row).to_contain_text("connection refused")
        await shot(page, "notify-failing")
