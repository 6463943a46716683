"""The health dashboard and a cluster's alerts page in a real browser (Chromium via
Playwright), against ``clustermgr serve`` on a data dir of its own (watcher off) whose
alerts were recorded through the monitor's store.  Screenshots go to
``test-artifacts/screenshots/`` (``health-*.png``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from browsing import chromium, shot, tab_on
from clustermgr.components.ldap.ids import server_ids
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings
from replicationdata import BROKEN, IDP1, IDP2, add_cluster
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

LAGGING = Finding(f"probe:{IDP1}", Severity.WARNING, f"{IDP1}: the probe took 12 s")
REPAIRED = Finding("repair:stunnel4:idp2", Severity.WARNING, f"restarted stunnel4 on {IDP2}")


async def recorded(settings: Settings) -> str:
    """A replicating cluster with an open critical alert, a resolved warning and an open
    repair of the cache; its name."""
    manager = await Manager.open(settings)
    try:
        name = await add_cluster(manager)
        async with manager.store() as inventory:
            cluster = await inventory.cluster(name)
            await server_ids(inventory, cluster, list(cluster.servers))
        now = utcnow()
        for component, ago, findings in (
            ("ldap", 60, (BROKEN, LAGGING)),
            ("ldap", 30, (BROKEN,)),
            ("cache", 10, (REPAIRED,)),
        ):
            at = now - timedelta(seconds=ago)
            await store.record_cycle(manager, Cycle(name, component, at, {}, findings=findings))
        return name
    finally:
        await manager.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser, str]]:
    settings = Settings(data_dir=tmp_path / "data")
    admin = await create_user(settings)
    name = await recorded(settings)
    server = ManagerProcess(
        settings, free_port(), tmp_path / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    server.start()
    try:
        yield server, admin, name
    finally:
        server.stop()


async def test_dashboard_badge_and_alerts_page_filtered_in_a_browser(
    served: tuple[ManagerProcess, WebUser, str],
) -> None:
    server, admin, name = served
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await page.goto("/")
        await page.get_by_label("User name").fill(admin.username)
        await page.get_by_label("Password").fill(admin.password)
        await page.get_by_role("button", name="Sign in").click()

        await expect(page.get_by_role("heading", name="Health", level=2)).to_be_visible()
        badge = page.locator("#critical-badge")
        await expect(badge).to_have_text("1 critical alert")
        health = page.get_by_role("table", name=re.compile(f"Cluster {name}:"))
        ldap = health.get_by_role("row", name=re.compile("LDAP replication"))
        await expect(ldap).to_contain_text("critical")
        await expect(ldap).to_contain_text("1 open (1 critical)")
        await expect(health.get_by_role("row", name=re.compile("Cache"))).to_contain_text(
            "1 open (1 warning)"
        )
        await expect(health.get_by_role("row", name=re.compile("Load balancer"))).to_contain_text(
            "not set up"
        )
        await shot(page, "health-dashboard")

        await badge.click()
        await expect(page).to_have_url(re.compile(r"/#health$"))
        await health.get_by_role("link", name=f"all alerts of {name}").click()
        await expect(page.get_by_role("heading", name=f"Alerts of cluster {name}")).to_be_visible()
        opened = page.get_by_role("table", name=re.compile("open alerts?, newest first"))
        await expect(opened.get_by_role("row")).to_have_count(3)  # a header and two alerts
        history = page.get_by_role("table", name=re.compile("Every episode"))
        await expect(history).to_contain_text(LAGGING.message)
        await shot(page, "health-alerts")

        await page.get_by_label("Severity").select_option("warning")
        await page.get_by_label("Host").select_option(IDP2)
        await page.get_by_role("button", name="Filter").click()
        await expect(page).to_have_url(re.compile(r"severity=warning"))
        await expect(opened.get_by_role("row")).to_have_count(2)
        await expect(opened).to_contain_text(REPAIRED.message)
        await expect(history).not_to_contain_text(BROKEN.message)
        await expect(history).not_to_contain_text(LAGGING.message)  # about idp1
        await shot(page, "health-alerts-filtered")

        await page.get_by_role("link", name="Show every alert").click()
        await expect(opened.get_by_role("row")).to_have_count(3)
