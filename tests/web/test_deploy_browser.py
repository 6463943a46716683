"""The guided deploy in a real browser (Chromium via Playwright), on the lab.

Against a real ``clustermgr serve`` on a copy of the lab's data, with the watcher off
(what it reports during a first deploy is its own subject): the cluster page lists the
stages with the next action highlighted; following it runs the preflight check, then
plans the whole deploy; the plan's page applies every stage with one confirmation.  A
second deploy (through the API) changes nothing.  Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from labfixture import Lab
from webfixture import (
    JOB_DEADLINE,
    ManagerProcess,
    WebUser,
    client,
    copy_data_dir,
    free_port,
    wait_for_job,
)

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 800}
JOB_MS = JOB_DEADLINE * 1000
STAGES = ["base", "ldap", "cache", "lb"]


@pytest.fixture(scope="module")
def server(lab: Lab, web_admin: WebUser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("deploy-live")
    settings = copy_data_dir(lab.settings, folder / "data")
    process = ManagerProcess(
        settings, free_port(), folder / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    process.start()
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def tab(browser: Browser, server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=server, viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], f"the browser reported errors: {errors}"


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """The page (or only what the window shows: a long plan's page is too tall to read)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


async def finished(page: Page) -> str:
    await expect(page.locator("#job-done")).to_contain_text("Finished", timeout=JOB_MS)
    return (await page.locator("#job-state").inner_text()).strip()


async def state_of(page: Page, stage: str) -> str:
    return (await page.locator(f"#stage-{stage} .stage").inner_text()).strip()


async def test_follow_the_next_action_plan_the_whole_deploy_and_apply_it(
    tab: Page, server: str, web_admin: WebUser, lab: Lab
) -> None:
    page = tab
    cluster = lab.config.cluster
    await page.goto("/login")
    await page.get_by_label("User name").fill(web_admin.username)
    await page.get_by_label("Password").fill(web_admin.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    # Servers are in: the check comes next, highlighted.
    await page.goto(f"/clusters/{cluster}")
    await expect(page.locator("#next-action")).to_contain_text("Next: Run preflight")
    await expect(page.locator("#stage-preflight")).to_have_attribute("aria-current", "step")
    assert await state_of(page, "servers") == "done"
    await shot(page, "deploy-cluster-start")
    await page.locator("#next-button").get_by_role("button", name="Run preflight").click()
    assert await finished(page) == "succeeded"

    # Checked: the whole deploy's plan comes next.
    await page.goto(f"/clusters/{cluster}")
    await expect(page.locator("#next-action")).to_contain_text("Next: Plan the whole deploy")
    assert [await state_of(page, s) for s in ["servers", "preflight", *STAGES]] == [
        "done",
        "done",
        *["not started"] * len(STAGES),
    ]
    await expect(page.locator("tr[aria-current]")).to_have_count(0)
    await shot(page, "deploy-cluster-next")
    await page.locator("#next-button").get_by_role("button", name="Plan the whole deploy").click()
    await expect(
        page.get_by_role("heading", name=re.compile("deploy-plan of cluster"))
    ).to_be_visible()
    assert await finished(page) == "succeeded"
    stages = page.get_by_role("table", name=f"Each stage of the deploy of {cluster}")
    for stage in STAGES:
        await expect(stages.locator(f"#deploy-stage-{stage}")).to_contain_text("planned")
        await expect(stages.locator(f"#deploy-stage-{stage}")).to_contain_text("would change")
    await expect(page.get_by_role("heading", name="Plan: what would change")).to_be_visible()
    await expect(page.get_by_text("LDAP replication: ").first).to_be_visible()
    plan_id = page.url.rsplit("/", 1)[1]
    await page.get_by_role("heading", name="The deploy's stages").scroll_into_view_if_needed()
    await shot(page, "deploy-plan", full_page=False)
    await page.get_by_role("heading", name="Apply these changes").scroll_into_view_if_needed()
    await shot(page, "deploy-plan-apply", full_page=False)

    # One confirmation applies every stage, in order.
    await page.get_by_label(re.compile(r"Yes, change these \d+ steps on cluster")).check()
    await page.get_by_role("button", name="Apply these changes").click()
    await expect(page.get_by_role("heading", name=re.compile("deploy of cluster"))).to_be_visible()
    assert await finished(page) == "succeeded"
    await expect(page.get_by_role("link", name=f"job #{plan_id}")).to_be_visible()
    stages = page.get_by_role("table", name=f"Each stage of the deploy of {cluster}")
    for stage in STAGES:
        await expect(stages.locator(f"#deploy-stage-{stage}")).to_contain_text("applied")
    await page.get_by_role("heading", name="Stages deployed").scroll_into_view_if_needed()
    await shot(page, "deploy-applied", full_page=False)

    await page.goto(f"/clusters/{cluster}")
    await expect(page.locator("#next-action")).to_have_text("Every stage is applied.")
    assert [await state_of(page, s) for s in STAGES] == ["applied"] * len(STAGES)
    await shot(page, "deploy-cluster-done")


async def test_a_second_deploy_changes_nothing(server: str, web_admin: WebUser, lab: Lab) -> None:
    async with client(server, token=web_admin.token) as api:
        body = {"kind": "deploy", "cluster": lab.config.cluster, "params": {}}
        started = await api.post("/api/v1/jobs", json=body)
        assert started.status_code == 202, started.text
        job = await wait_for_job(api, started.json()["id"])
        assert job["state"] == "succeeded", job["error"]
        assert job["result"]["counts"]["changed"] == 0
        assert [s["status"] for s in job["result"]["stages"]] == ["applied"] * len(STAGES)
        board = (await api.get(f"/api/v1/clusters/{lab.config.cluster}/stages")).json()
        assert board["next"] is None
        assert [s["state"] for s in board["stages"]] == ["done", "done", *["applied"] * 4]
        missing = await api.get("/api/v1/clusters/nope/stages")
        assert missing.status_code == 404


async def test_stages_of_the_api_need_a_token(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as anon:
        assert (await anon.get("/api/v1/clusters/lab/stages")).status_code == 401
