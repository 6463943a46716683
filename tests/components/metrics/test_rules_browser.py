"""Editing a threshold rule by clicks in a real browser (Chromium via Playwright), against
``clustermgr serve`` on a data dir of its own (watcher off).  The screenshot goes to
``test-artifacts/screenshots/metrics-rules.png``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from browsing import chromium, shot, sign_in_to, tab_on
from clustermgr.components.metrics import rulestore
from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from clustermgr.settings import Settings
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

CLUSTER = "rules"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser, Settings]]:
    settings = Settings(data_dir=tmp_path / "data")
    admin = await create_user(settings)
    manager = await Manager.open(settings)
    try:
        await clusters.create_cluster(manager, CLUSTER)
        await rulestore.change(manager, CLUSTER, "disk-full", {"enabled": False}, actor="tests")
    finally:
        await manager.close()
    server = ManagerProcess(
        settings, free_port(), tmp_path / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    server.start()
    try:
        yield server, admin, settings
    finally:
        server.stop()


async def test_an_admin_edits_a_rule_by_clicks(
    served: tuple[ManagerProcess, WebUser, Settings],
) -> None:
    server, admin, settings = served
    path = f"/clusters/{CLUSTER}/metrics/rules"
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await sign_in_to(page, admin, path)
        await expect(page.get_by_role("heading", name=f"Alert rules of {CLUSTER}")).to_be_visible()
        row = page.locator("#rule-cpu-busy")
        await expect(row).to_contain_text("cpu_busy_percent > 90 for 5 min")
        await page.get_by_label("Threshold of cpu-busy").fill("75")
        await page.get_by_label("Seconds cpu-busy lasts before it alerts").fill("120")
        await page.get_by_label("Severity of cpu-busy").select_option("critical")
        await page.get_by_role("button", name="Save cpu-busy").click()
        await page.wait_for_url(f"**{path}*")
        row = page.locator("#rule-cpu-busy")
        await expect(row).to_contain_text("cpu_busy_percent > 75 for 2 min")
        await expect(row).to_contain_text("changed")
        await expect(page.get_by_label("Severity of cpu-busy")).to_have_value("critical")
        await expect(page.get_by_label("cpu-busy is on")).to_be_checked()
        await expect(page.get_by_label("disk-full is on")).not_to_be_checked()
        await expect(page.get_by_role("button", name="Reset disk-full")).to_be_visible()
        await shot(page, "metrics-rules")
        await page.get_by_role("button", name="Reset disk-full").click()
        await page.wait_for_url(f"**{path}*")
        await expect(page.get_by_label("disk-full is on")).to_be_checked()
    manager = await Manager.open(settings)
    try:
        states = {s.rule.id: s for s in await rulestore.rules(manager, CLUSTER)}
    finally:
        await manager.close()
    cpu = states["cpu-busy"].rule
    assert (cpu.threshold, cpu.duration, cpu.severity.value, cpu.enabled) == (
        75,
        120,
        "critical",
        True,
    )
    assert not states["disk-full"].changed
