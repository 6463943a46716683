"""A new user's path through the GUI in a real browser (Chromium via Playwright).

Against a real ``clustermgr serve`` on the lab's inventory: sign in, see the lab's
servers, run a preflight check and watch its events arrive live, plan, apply
the plan, and find the apply in the audit trail.  Screenshots of the main
pages go to ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.async_api import Page, expect

from browsing import JOB_MS, finished, shot
from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.services import clusters
from labfixture import Lab
from replicationdata import IDP1, IDP2, add_cluster, record
from webfixture import ManagerProcess, WebUser

pytestmark = pytest.mark.integration

#: Records, for every event line the page adds, whether the job was already shown
#: as finished at that moment: proof that lines arrive while the job runs.
WATCH_EVENTS = """() => {
  window.__arrivals = [];
  const list = document.getElementById("events");
  const done = document.getElementById("job-done");
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.tagName === "LI") window.__arrivals.push({ seq: node.dataset.seq, done: !done.hidden });
      }
    }
  }).observe(list, { childList: true });
}"""


async def test_new_user_checks_plans_applies_and_finds_it_audited(
    tab: Page, live_server: str, web_admin: WebUser, lab: Lab
) -> None:
    page = tab
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await shot(page, "login")
    await page.get_by_label("User name").fill(web_admin.username)
    await page.get_by_label("Password").fill(web_admin.password)
    await page.get_by_role("button", name="Sign in").click()

    # The dashboard lists the lab's servers.
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    servers = page.get_by_role("table", name=re.compile("Servers of lab"))
    for host in lab.config.hosts():
        await expect(servers.get_by_role("link", name=host.fqdn)).to_be_visible()
    await shot(page, "dashboard")

    # A preflight check, followed live: with idp2 cut off, the job waits for its
    # connection to time out while the other hosts' verdicts already show.
    await page.get_by_role("link", name="Open cluster lab").click()
    await expect(page.get_by_role("heading", name="Cluster lab", level=1)).to_be_visible()
    await shot(page, "cluster")
    lab.partition("idp2")
    try:
        await page.get_by_role("button", name="Check", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
        await page.evaluate(WATCH_EVENTS)
        events = page.locator("#events li")
        await expect(events.first).to_be_visible(timeout=JOB_MS)
        await expect(events.filter(has_text="proxy1.lab.test: pass: ssh login")).to_have_count(1)
        await expect(page.locator("#job-done")).to_be_hidden()
        await expect(page.get_by_role("button", name="Cancel job")).to_be_visible()
        await shot(page, "job-live")
        assert await finished(page) == "failed"
    finally:
        lab.heal("idp2")
    arrivals = await page.evaluate("window.__arrivals")
    assert arrivals and not arrivals[0]["done"], "event lines arrived before the job ended"
    table = page.get_by_role("table", name="Preflight checks by host")
    rows = table.get_by_role("row").filter(has_text="idp2.lab.test")
    await expect(rows.filter(has_text="ssh login")).to_contain_text("fail")
    await shot(page, "job-finished")

    # Run it again, now that idp2 answers.
    await page.get_by_role("button", name="Run again").click()
    await expect(
        page.get_by_role("heading", name=re.compile("preflight of cluster lab"))
    ).to_be_visible()
    assert await finished(page) == "succeeded"
    await expect(page.get_by_role("table", name="Preflight checks by host")).to_contain_text(
        "ssh login"
    )

    # A plan: make one host differ first, so there is something to apply.
    begin, end = "# BEGIN clustermgr cluster lab", "# END clustermgr cluster lab"
    await lab.sh("proxy1", 'sed -i "/^$1$/,/^$2$/d" /etc/hosts', begin, end)
    await page.get_by_role("link", name="cluster lab").first.click()
    await page.get_by_role("button", name="Plan", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    assert await finished(page) == "succeeded"
    await expect(page.get_by_role("heading", name="Plan: what would change")).to_be_visible()
    proxy = page.get_by_role("table", name="Steps on proxy1.lab.test")
    await expect(proxy.get_by_text("would change").first).to_be_visible()
    await expect(page.locator("pre.diff .diff-add").first).to_be_visible()
    await expect(page.get_by_text("unchanged").first).to_be_visible()
    await page.get_by_role("heading", name="Apply these changes").scroll_into_view_if_needed()
    await shot(page, "plan")

    # Apply it, with the confirmation.
    confirm = page.get_by_label(re.compile(r"Yes, change these \d+ steps? on cluster lab"))
    await expect(confirm).to_be_visible()
    await confirm.check()
    await page.get_by_role("button", name="Apply these changes").click()
    await expect(
        page.get_by_role("heading", name=re.compile(r"apply of cluster lab"))
    ).to_be_visible()
    apply_id = page.url.rsplit("/", 1)[1]
    assert await finished(page) == "succeeded"
    await expect(page.get_by_role("heading", name="Outcome")).to_be_visible()
    await expect(
        page.get_by_role("table", name="Steps on proxy1.lab.test").get_by_text(
            "changed", exact=True
        )
    ).to_be_visible()
    await shot(page, "apply")

    # The apply is on the record.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    await expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="kind=apply").filter(has_text=f"#{apply_id}")
    await expect(row.first).to_be_visible()
    await expect(row.first).to_contain_text(web_admin.username)
    await expect(row.first).to_contain_text("job.start")
    await shot(page, "audit")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    await expect(
        page.get_by_role("heading", name=f"Account of {web_admin.username}")
    ).to_be_visible()
    await shot(page, "account")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Servers").click()
    await page.get_by_role("link", name="Add a server").click()
    await expect(page.get_by_label("Host name")).to_be_visible()
    await shot(page, "server-add")


async def test_add_a_server_confirming_its_host_key_then_remove_it(
    tab: Page, web_admin: WebUser, lab: Lab
) -> None:
    page, host, cluster = tab, lab.host("idp1"), "gui-browser"
    await page.goto("/login")
    await page.get_by_label("User name").fill(web_admin.username)
    await page.get_by_label("Password").fill(web_admin.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"/servers/add?cluster={cluster}")
    await page.get_by_label("Host name").fill("bad_name")
    await page.get_by_role("button", name="Read the host key").click()
    await expect(page.get_by_role("alert")).to_contain_text("invalid hostname 'bad_name'")
    await expect(page.get_by_role("alert")).to_be_focused()

    await page.get_by_label("Host name").fill(host.fqdn)
    await page.get_by_label("Address").fill(host.address)
    await page.get_by_label("or choose the key file").set_input_files(lab.config.ssh_key)
    await page.get_by_role("button", name="Read the host key").click()
    await expect(
        page.get_by_role("heading", name=f"Confirm the host key of {host.fqdn}")
    ).to_be_visible()
    await expect(page.locator("#compare-command")).to_have_text(
        "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"
    )
    await shot(page, "server-confirm-key")
    await page.get_by_role("button", name=re.compile("trust the key and add the server")).click()
    await expect(page.get_by_role("status")).to_have_text("Server added.")
    await expect(page.get_by_role("heading", name=f"Cluster {cluster}", level=1)).to_be_visible()

    await page.get_by_role("link", name=host.fqdn).click()
    await page.get_by_role("link", name="Remove this server").click()
    await page.get_by_role("button", name=f"Remove {host.fqdn}").click()
    await expect(page.get_by_role("status")).to_have_text("Server removed.")
    await expect(page.get_by_text("No server yet.")).to_be_visible()
    # The emptied cluster stays in the live server's database, a copy private to it.


async def test_replication_page_redraws_itself_when_an_agreement_heals(
    tab: Page, live_process: ManagerProcess, web_admin: WebUser
) -> None:
    """The health part refreshes on its own: a healed agreement turns green without a reload."""
    manager = await Manager.open(live_process.settings)
    name = await add_cluster(manager)
    try:
        for ago in (600, 300):
            await record(manager, name, broken=False, ago=ago)
        await record(manager, name, broken=True)
        page = tab
        await page.goto(f"/login?next=/clusters/{name}/ldap")
        await page.get_by_label("User name").fill(web_admin.username)
        await page.get_by_label("Password").fill(web_admin.password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(
            page.get_by_role("heading", name=f"LDAP replication of {name}")
        ).to_be_visible()
        arrow = page.locator(f'line.arrow[data-consumer="{IDP2}"][data-provider="{IDP1}"]')
        await expect(arrow).to_have_class(re.compile("health-critical"))
        await expect(page.get_by_role("alert")).to_contain_text("TLS fails")
        box = await page.locator(f'g.node[data-host="{IDP1}"] circle').bounding_box()
        assert box is not None and box["width"] > 20, "the topology is drawn"
        assert await page.locator("polyline.series").count() == 1
        await shot(page, "replication")

        await record(manager, name, broken=False)
        interval = live_process.settings.watch_interval
        await expect(arrow).to_have_class(
            re.compile("health-ok"), timeout=(2 * interval + 5) * 1000
        )
        await expect(page.get_by_text("No open alert.")).to_be_visible()
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(manager, name)
        await manager.close()


async def test_the_cluster_page_sets_the_public_hostname(tab: Page, web_admin: WebUser) -> None:
    page = tab
    await page.goto("/login")
    await page.get_by_label("User name").fill(web_admin.username)
    await page.get_by_label("Password").fill(web_admin.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.goto("/clusters/lab")
    shown = page.locator("#public-hostname")
    await expect(shown).to_contain_text("proxy1.lab.test (the proxy's hostname)")
    await page.get_by_label("Public hostname").fill("SSO.lab.test")
    await page.get_by_role("button", name="Save settings").click()
    await expect(shown).to_contain_text("sso.lab.test (set)")
    await expect(shown).to_contain_text("should serve the issuer https://sso.lab.test")
    await shot(page, "cluster-public-hostname")
    await page.get_by_label("Public hostname").fill("sso_lab")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("'sso_lab' is not a DNS host name")).to_be_visible()
    await page.goto("/clusters/lab")
    await expect(shown).to_contain_text("sso.lab.test (set)")
    await page.get_by_label("Public hostname").fill("")
    await page.get_by_role("button", name="Save settings").click()
    await expect(shown).to_contain_text("proxy1.lab.test (the proxy's hostname)")
