"""A newcomer's whole path, by clicks alone, in a real browser: from the setup link a
fresh manager prints to a cluster whose replication, cache and load balancer are healthy.

Bare lab servers of the test's own (identity nodes and a proxy, reachable over SSH with
the lab's key) and a manager that knows none of them: ``clustermgr serve`` on an empty
data folder, its watcher on.  The browser creates the administrator, signs in, adds each
server (confirming its host key), checks them, and applies every stage the cluster page
leads to: its highlighted next action (preflight, then the whole deploy's plan,
applied from its page after one confirmation).  No form is posted by hand and no CLI runs.
Then the cluster's Monitoring page (bare variant): every server's CPU chart reads a value
within 30 s, scraped by the watcher the deploy's last stage set up.  Screenshots of
every stage go to ``test-artifacts/screenshots/newcomer-*.png``; the time the clicking
took is printed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from browsing import JOB_MS, chromium, finished, shot, tab_on
from clustermgr.core.manager import Manager
from clustermgr.lab.gluu.package import GLUU_VERSION
from clustermgr.monitor import read
from clustermgr.settings import Settings
from labfixture import SLOT, Lab, running_lab
from webfixture import ADMIN_PASSWORD, ManagerProcess, free_port

pytestmark = pytest.mark.integration

CLUSTER = "newcomer"
#: The watcher checks (and scrapes the metrics) this often, so "healthy" and the charts
#: show soon after the last apply.
WATCH_INTERVAL = "2"


def setup_link(server: ManagerProcess) -> str:
    """The one-time link ``serve`` prints while no user exists."""
    match = re.search(r"(http://\S+/setup\?token=\S+)", server.log())
    assert match, server.log()
    return match.group(1)


async def add_servers(page: Page, lab: Lab) -> None:
    """Each lab host through the add-server form and its host-key confirmation."""
    for index, host in enumerate(lab.config.hosts()):
        if index == 0:
            await expect(page.get_by_role("heading", name="No cluster yet")).to_be_visible()
            await page.get_by_role("link", name="Add a server").click()
        else:
            await page.get_by_role("link", name=f"Add a server to {CLUSTER}").click()
        await page.get_by_label("Cluster").fill(CLUSTER)
        await page.get_by_label("Host name").fill(host.fqdn)
        await page.get_by_label("Address").fill(host.address)
        await page.get_by_label("Role").select_option(host.role.value)
        await page.get_by_label("or choose the key file").set_input_files(lab.config.ssh_key)
        await page.get_by_role("button", name="Read the host key").click()
        await expect(
            page.get_by_role("heading", name=f"Confirm the host key of {host.fqdn}")
        ).to_be_visible()
        if index == 0:
            await shot(page, "newcomer-2-confirm-host-key")
        await page.get_by_role(
            "button", name=re.compile("trust the key and add the server")
        ).click()
        await expect(page.get_by_role("status")).to_have_text("Server added.")
        await expect(
            page.get_by_role("heading", name=f"Cluster {CLUSTER}", level=1)
        ).to_be_visible()


async def failures(page: Page) -> str:
    """What the job page says of its failed steps and its error, to explain a failure."""
    rows = await page.locator("tr:has(.outcome-failed), .alert").all_inner_texts()
    return "\n".join(rows)[-4000:]


async def next_action(page: Page, button: str, name: str) -> None:
    """Click the cluster page's highlighted next action, which starts a job; the job
    must succeed."""
    await expect(page.locator("#next-action")).to_contain_text(f"Next: {button}")
    await page.locator("#next-button").get_by_role("button", name=button, exact=True).click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    state = await finished(page)
    await shot(page, name)
    assert state == "succeeded", f"{button}: the job ended {state}:\n{await failures(page)}"


async def apply_plan(page: Page, name: str) -> None:
    """On a finished plan's page: confirm and apply; the apply must succeed."""
    confirm = page.get_by_label(re.compile(rf"Yes, change these \d+ steps? on cluster {CLUSTER}"))
    await confirm.check()
    await page.get_by_role("button", name="Apply these changes").click()
    applying = re.compile(rf"^Job #\d+: (\S*apply|deploy) of cluster {CLUSTER}$")
    await expect(page.get_by_role("heading", name=applying)).to_be_visible()
    state = await finished(page)
    await shot(page, name)
    assert state == "succeeded", f"{name}: the apply ended {state}:\n{await failures(page)}"


async def component_page(page: Page, title: str) -> None:
    """From any page: the dashboard, then the component's link in the cluster's health."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    await page.locator(f"#health-{CLUSTER}").get_by_role("link", name=title).click()


async def healthy(page: Page, title: str, name: str) -> None:
    """The component's page says the watcher checked it and no alert is open."""
    await component_page(page, title)
    await expect(page.get_by_text(re.compile(r"^Checked .* UTC"))).to_be_visible(timeout=JOB_MS)
    await expect(page.get_by_text("No open alert.")).to_be_visible(timeout=JOB_MS)
    await shot(page, name)


async def every_cpu_charted(page: Page, lab: Lab, name: str) -> None:
    """From the dashboard: the cluster page's Monitoring link; each server's CPU chart
    reads its latest value (in %) within 30 s."""
    await page.locator(f"#health-{CLUSTER}").get_by_role("link", name=CLUSTER, exact=True).click()
    await page.get_by_role("link", name=re.compile(r"^Monitoring: ")).click()
    await expect(page.get_by_role("heading", name=f"Metrics of {CLUSTER}")).to_be_visible()
    began = time.monotonic()
    for host in lab.config.hosts():
        chart = page.locator(f'[id="chart-{host.fqdn}-cpu"]')
        value = chart.locator(".u-legend .u-series:not(:first-child) .u-value")
        left = max(30 - (time.monotonic() - began), 1) * 1000
        await expect(value).to_have_text(re.compile(r"^\d+(\.\d+)? %$"), timeout=left)
    await shot(page, name)


async def install_settings(page: Page, lab: Lab, shots: str) -> None:
    """From the cluster page: the install page's form, filled in as a user would with
    the lab's repository and its key, saved; back to the cluster page."""
    await page.get_by_role("link", name="Gluu Server install").click()
    await expect(page.locator("#not-installed")).to_be_visible()
    repo = lab.config.apt_repo
    for label, value in (
        ("Organization", "Newcomer Org"),
        ("City", "Austin"),
        ("State or province", "TX"),
        ("Country (two letters)", "US"),
        ("Admin email", "admin@example.org"),
        ("Gluu admin password", 'it\'s the "admin" pw'),
        ("gluu-server version", GLUU_VERSION),
        ("Repository URL", repo.url.rstrip("/")),
        ("Suite", repo.suite),
    ):
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_label("Signing key (armored), or a key file", exact=True).fill(
        repo.public_key.read_text()
    )
    await shot(page, f"{shots}-install-settings")
    await page.get_by_role("button", name="Save install settings").click()
    await expect(page.locator("#properties")).to_contain_text("oxtrust_admin_password=********")
    await shot(page, f"{shots}-install-properties")
    await page.get_by_role("link", name=f"Cluster {CLUSTER}").click()


@pytest.mark.parametrize("bare", [False, True], ids=["pre-installed", "bare"])
async def test_a_newcomer_reaches_a_healthy_cluster_by_clicks(tmp_path: Path, bare: bool) -> None:
    prefix, subnet = SLOT.spare()
    shots = "newcomer-bare" if bare else "newcomer"
    async with running_lab(tmp_path / "lab", prefix=prefix, subnet=subnet, gluu=not bare) as lab:
        settings = Settings(data_dir=tmp_path / "fresh", connect_timeout=5, command_timeout=60)
        server = ManagerProcess(
            settings,
            free_port(),
            tmp_path / "serve.log",
            env={
                "CLUSTERMGR_WATCH_INTERVAL": WATCH_INTERVAL,
                "CLUSTERMGR_METRICS_SCRAPE_SECONDS": WATCH_INTERVAL,
            },
        )
        server.start()
        try:
            async with chromium() as browser, tab_on(browser, server.url) as page:
                began = time.monotonic()
                await page.goto(setup_link(server))
                await page.get_by_label("User name").fill("admin")
                await page.get_by_label("Password").fill(ADMIN_PASSWORD)
                await shot(page, f"{shots}-0-setup")
                await page.get_by_role("button", name="Create").click()
                await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
                await shot(page, f"{shots}-1-created")
                await page.get_by_label("User name").fill("admin")
                await page.get_by_label("Password").fill(ADMIN_PASSWORD)
                await page.get_by_role("button", name="Sign in").click()

                await add_servers(page, lab)
                await shot(page, f"{shots}-3-servers-added")
                await next_action(page, "Run preflight", f"{shots}-4-preflight")
                await page.get_by_role("link", name=f"cluster {CLUSTER}").first.click()
                if bare:  # nothing of Gluu on the servers: the install settings first
                    await install_settings(page, lab, shots)
                await expect(page.locator("#next-action")).to_contain_text(
                    "Next: Plan the whole deploy"
                )
                await shot(page, f"{shots}-5-next-deploy")
                await next_action(page, "Plan the whole deploy", f"{shots}-6-deploy-plan")
                await apply_plan(page, f"{shots}-7-deployed")
                await page.get_by_role("link", name=f"cluster {CLUSTER}").first.click()
                await expect(page.locator("#next-action")).to_have_text("Every stage is applied.")
                await shot(page, f"{shots}-8-every-stage-applied")

                for title in ("LDAP replication", "Cache", "Load balancer"):
                    slug = title.split()[0].lower()
                    await healthy(page, title, f"{shots}-9-{slug}-healthy")
                # The dashboard: every watched component of the cluster is ok, no alert.
                await (
                    page.get_by_role("navigation", name="Main")
                    .get_by_role("link", name="Dashboard")
                    .click()
                )
                health = page.locator(f"#health-{CLUSTER}")
                # The install is no part of the watcher: no health row for it.
                await expect(health.locator('tr[data-component="install"]')).to_have_count(0)
                for component in ("ldap", "cache", "lb", "metrics"):
                    row = health.locator(f'tr[data-component="{component}"]')
                    await expect(row.locator(".health")).to_have_text("ok", timeout=JOB_MS)
                    await expect(row.locator("td").last).to_have_text("none")
                await expect(page.locator("#critical-badge")).to_have_count(0)
                await shot(page, f"{shots}-10-dashboard")
                if bare:  # one variant is enough: the same charts either way
                    await every_cpu_charted(page, lab, f"{shots}-11-monitoring")
                clicking = time.monotonic() - began
                print(f"\nfrom the setup link to a healthy cluster: {clicking:.0f} s")
        finally:
            server.stop()

        manager = await Manager.open(settings)
        try:
            alerts = await read.cluster_alerts(manager, CLUSTER, open_only=False)
        finally:
            await manager.close()
        assert alerts == [], f"the deploy raised alerts: {alerts}"
