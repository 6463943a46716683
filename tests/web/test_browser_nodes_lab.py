"""Adding and taking out a node by clicks, in a real browser (Chromium via Playwright),
against ``clustermgr serve`` on a lab of its own: three identity nodes, idp3 left out of
the inventory (a spare host); Gluu Server, LDAP replication, the cache and the balancer
set up on idp1 and idp2.

In order: idp3 is added through "Add a node" (the host key confirmed), every component
sets it up and it becomes a member; it is taken out through its confirmation page (what
is lost listed), Gluu Server uninstalled; idp2, powered off, is shown as not answering
(no uninstall) and taken out untouched; idp1, the last identity node, is refused with
the reason.  Screenshots go to ``test-artifacts/screenshots/``
(``nodes-*.png``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from browsing import chromium, finished, shot, sign_in_to, tab_on
from cachelab import configure
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import NodeState
from clustermgr.lab import hosts
from clustermgr.remote.target import HostKey
from clustermgr.services import servers
from labfixture import SLOT, Lab, install_gluu, running_lab, tcp_open
from lblab import balance
from ldaplab import replicate
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("nodes-lab")
    async with running_lab(
        base, gluu=False, prefix=prefix, subnet=subnet, identity_nodes=3
    ) as running:
        manager = await Manager.open(running.settings)
        try:
            await servers.remove_server(manager, running.config.cluster, running.host("idp3").fqdn)
        finally:
            await manager.close()
        await install_gluu(running)
        for step in (replicate, configure, balance):
            report = await step(running)
            assert report["ok"], (step.__name__, json.dumps(report, indent=1)[:4000])
        yield running


@pytest.fixture(scope="module")
async def admin(lab: Lab) -> WebUser:
    return await create_user(lab.settings)


@pytest.fixture(scope="module")
def served(
    lab: Lab, admin: WebUser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagerProcess]:
    folder = tmp_path_factory.mktemp("nodes-serve")
    server = ManagerProcess(
        lab.settings,
        free_port(),
        folder / "serve.log",
        env={"CLUSTERMGR_WATCH_ENABLED": "false"},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Browser, served: ManagerProcess) -> AsyncIterator[Page]:
    async with tab_on(browser, served.url) as tab:
        yield tab


def _row(page: Page, fqdn: str) -> Locator:
    return page.locator("tr").filter(has=page.get_by_role("rowheader", name=fqdn))


async def _states(lab: Lab) -> dict[str, NodeState]:
    manager = await Manager.open(lab.settings)
    try:
        view = await get_cluster(manager, lab.config.cluster)
    finally:
        await manager.close()
    return {s.hostname.split(".", 1)[0]: s.state for s in view.servers}


async def test_add_a_node_by_clicks_up_to_its_job_then_it_is_a_member(
    page: Page, admin: WebUser, lab: Lab, tmp_path: Path
) -> None:
    cluster = lab.config.cluster
    idp3 = lab.host("idp3")
    await sign_in_to(page, admin, f"/clusters/{cluster}")
    await page.get_by_role("link", name="Add a node").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Add a node to {cluster}")
    await page.get_by_label("Host name").fill(idp3.fqdn)
    await page.get_by_label("Address").fill(idp3.address)
    await page.get_by_label("or choose the key file").set_input_files(lab.config.ssh_key)
    await shot(page, "nodes-add-form")
    await page.get_by_role("button", name="Read the host key").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Confirm the host key of {idp3.fqdn}"
    )
    shown = (await page.locator("#fingerprint").inner_text()).strip()
    own = HostKey.from_openssh(hosts.host_key_line(lab.config, idp3))
    assert shown == own.fingerprint, "the host key the lab made for idp3"
    await expect(page.locator("#compare-command")).to_contain_text("ssh-keygen -lf")
    await shot(page, "nodes-add-confirm")
    assert await _states(lab) == {
        "idp1": NodeState.MEMBER,
        "idp2": NodeState.MEMBER,
        "proxy1": NodeState.MEMBER,
    }

    await page.get_by_role("button", name="trust the key and add the node").click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    await expect(page.locator("#job-summary")).to_contain_text("node-add")
    assert await finished(page) == "succeeded"
    await shot(page, "nodes-add-job")

    await page.goto(f"/clusters/{cluster}")
    cell = _row(page, idp3.fqdn).locator("td.node-state")
    await expect(cell).to_contain_text("member")
    await expect(cell.locator(".state-joining")).to_have_count(0)
    assert (await _states(lab))["idp3"] is NodeState.MEMBER
    assert tcp_open(idp3.address, 443), "Gluu Server serves on idp3"
    await shot(page, "nodes-cluster-page")


async def test_take_nodes_out_by_clicks_a_dead_one_untouched_the_last_one_refused(
    page: Page, admin: WebUser, lab: Lab
) -> None:
    cluster = lab.config.cluster
    idp1, idp2, idp3 = (lab.host(n) for n in ("idp1", "idp2", "idp3"))
    await sign_in_to(page, admin, f"/clusters/{cluster}")

    # idp3 answers: the uninstall is offered.
    await _row(page, idp3.fqdn).get_by_role("link", name="Remove from cluster").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Remove {idp3.fqdn} from cluster {cluster}"
    )
    lost = page.locator("#lost-items li")
    await expect(lost.filter(has_text="replication agreements")).to_have_count(1)
    await expect(lost.filter(has_text=f"sessions held in {idp3.fqdn}'s Redis")).to_have_count(1)
    await expect(page.locator("#unreachable")).to_have_count(0)
    await expect(page.locator("#uninstall-hint")).to_contain_text(
        f"Gluu Server and its data on {idp3.fqdn}"
    )
    uninstall = page.get_by_label(f"Also uninstall Gluu Server from {idp3.fqdn}")
    await uninstall.check()
    await shot(page, "nodes-remove-confirm")
    await page.get_by_role("button", name=f"Remove {idp3.fqdn} from the cluster").click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    await expect(page.locator("#job-summary")).to_contain_text("node-remove")
    assert await finished(page) == "succeeded"
    assert "idp3" not in await _states(lab)
    assert not tcp_open(idp3.address, 443), "Gluu Server was uninstalled from idp3"

    # idp2 loses power: taken out without being touched, no uninstall.
    lab.stop("idp2", power_cut=True)
    await page.goto(f"/clusters/{cluster}")
    await _row(page, idp2.fqdn).get_by_role("link", name="Remove from cluster").click()
    await expect(page.locator("#unreachable")).to_contain_text(
        "it will be removed without being touched"
    )
    await expect(page.get_by_label(f"Also uninstall Gluu Server from {idp2.fqdn}")).to_be_disabled()
    await shot(page, "nodes-remove-unreachable")
    await page.get_by_role("button", name=f"Remove {idp2.fqdn} from the cluster").click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    assert await finished(page) == "succeeded"
    await expect(page.locator("main")).to_contain_text("nothing on it is touched")
    assert "idp2" not in await _states(lab)

    # idp1 is the last identity node: the reason, and nothing to press.
    await page.goto(f"/clusters/{cluster}")
    await _row(page, idp1.fqdn).get_by_role("link", name="Remove from cluster").click()
    await expect(page.locator("#refused")).to_contain_text("last identity node")
    await expect(page.locator("main form[method=post]")).to_have_count(0)
    await shot(page, "nodes-remove-last")
    assert "idp1" in await _states(lab)
