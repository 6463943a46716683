"""The preflight job page's network matrix, in a real browser (Chromium via Playwright).

A real check of the lab from the cluster page shows every source against every
destination, all open; a recorded result with one dropped pair highlights that
cell and shows the rule that would open it.  Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import re
import secrets

import pytest
from playwright.async_api import Page, expect

from browsing import finished, shot, sign_in_to
from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ServerSpec, ServerView
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.services import clusters
from clustermgr.services.preflight import CheckResult, PreflightReport, Status
from clustermgr.services.reachability import (
    MANAGER,
    Matrix,
    PairResult,
    State,
    allow_rule,
    member_pairs,
)
from clustermgr.topology import Role
from labfixture import Lab
from webfixture import WebUser

pytestmark = pytest.mark.integration

#: What app.css paints a blocked cell with.
BLOCKED_FILL = "rgb(253, 240, 239)"


async def test_a_real_check_shows_every_member_against_every_other(
    tab: Page, web_admin: WebUser, lab: Lab
) -> None:
    page = tab
    await sign_in_to(page, web_admin, "/clusters/lab")
    await page.get_by_role("button", name="Check", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    assert await finished(page) == "succeeded"
    await page.reload()  # the report as a person opening the finished job sees it
    grid = page.locator("table.reach")
    await expect(grid).to_be_visible()
    members = [h.fqdn for h in lab.config.hosts()]
    headers = await grid.locator("thead th").all_inner_texts()
    assert [h.lower() for h in headers[1:]] == members
    sources = await grid.locator("tbody th[scope=row]").all_inner_texts()
    assert sources == [MANAGER, *members]
    await expect(grid.locator("td.blocked")).to_have_count(0)
    proxy = next(h for h in lab.config.hosts() if h.role is Role.PROXY)
    idp1 = lab.host("idp1")
    row = grid.locator("tbody tr").filter(has=page.locator("th", has_text=proxy.fqdn))
    cell = row.locator("td").nth(members.index(idp1.fqdn))
    await expect(cell).to_contain_text("443 open")
    await expect(cell).to_contain_text("7777 open")
    await expect(page.get_by_text("Every pair connects.")).to_be_visible()
    await shot(page, "preflight-matrix")


async def test_a_dropped_pair_is_highlighted_with_its_rule(
    tab: Page, web_admin: WebUser, live_manager: Manager
) -> None:
    name = f"reach-{secrets.token_hex(3)}"
    idp1, idp2, proxy = (f"{h}.{name}.test" for h in ("idp1", "idp2", "proxy1"))
    addresses = {idp1: "192.0.2.1", idp2: "192.0.2.2", proxy: "192.0.2.100"}
    await clusters.create_cluster(live_manager, name)
    try:
        servers = []
        async with live_manager.store() as inventory:
            for n, (host, address) in enumerate(addresses.items(), 1):
                role = Role.PROXY if host == proxy else Role.IDENTITY
                await inventory.add_server(ServerSpec(name, host, address, role), None, [])
                servers.append(ServerView(n, name, host, address, 22, "root", role, None))
        dropped = (idp1, idp2, 636)
        results = []
        for pair in member_pairs(servers):
            if (pair.source, pair.destination, pair.port) == dropped:
                rule = allow_rule(addresses[idp1], 636)
                results.append(PairResult(pair, State.FILTERED, "no answer within 3 s", rule))
            else:
                results.append(PairResult(pair, State.OPEN, "answered"))
        matrix = Matrix((MANAGER, *addresses), tuple(results))
        checks = tuple(CheckResult(h, "ssh login", Status.PASS, "root") for h in addresses)
        report = PreflightReport(checks, matrix)
        job = await jobs.create(
            live_manager, kind="preflight", cluster=name, mutating=False, user="admin",
            params={}, runner="none",
        )  # fmt: skip
        assert await jobs.claim(live_manager, job.id)
        await jobs.finish(live_manager, job.id, JobState.FAILED, result=report.as_dict())

        page = tab
        await sign_in_to(page, web_admin, f"/jobs/{job.id}")
        grid = page.locator("table.reach")
        blocked = grid.locator("td.blocked")
        await expect(blocked).to_have_count(1)
        await expect(blocked).to_contain_text("636 filtered")
        await expect(blocked).to_contain_text(allow_rule("192.0.2.1", 636))
        fill = await blocked.evaluate("c => getComputedStyle(c).backgroundColor")
        assert fill == BLOCKED_FILL
        row = grid.locator("tbody tr").filter(has=page.locator("th", has_text=idp1))
        assert await row.locator("td").nth(1).get_attribute("class") == "blocked"  # idp2's column
        await expect(page.get_by_text("Some pairs do not connect.")).to_be_visible()
        listed = page.locator("table").filter(has_text="Rule on the destination")
        await expect(listed.locator("tbody tr")).to_have_count(1)
        await shot(page, "preflight-matrix-blocked")
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(live_manager, name)
