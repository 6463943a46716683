"""The signing keys page in a real browser (Chromium via Playwright), against
``clustermgr serve`` on a lab of its own (watcher off): a short token lifetime saved
through the form, "Rotate keys" showing the plan, "Run the rotation" running the job to
its end, and the page then showing the new key alone, signing.  Screenshots go to
``test-artifacts/screenshots/`` (``keys-*.png``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from browsing import chromium, finished, shot, sign_in_to, tab_on
from labfixture import SLOT, Lab, running_lab
from webfixture import ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("keys-browser-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        yield running


@pytest.fixture
async def served(lab: Lab, tmp_path: Path) -> AsyncIterator[tuple[ManagerProcess, WebUser]]:
    admin = await create_user(lab.settings, "keys-admin")
    server = ManagerProcess(
        lab.settings, free_port(), tmp_path / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()


async def test_a_rotation_walked_by_clicks(
    lab: Lab, served: tuple[ManagerProcess, WebUser]
) -> None:
    server, admin = served
    page_path = f"/clusters/{lab.config.cluster}/keys"
    async with chromium() as browser, tab_on(browser, server.url) as page:
        await sign_in_to(page, admin, page_path)
        await expect(page.get_by_role("heading", name="Signing keys of")).to_be_visible()
        keys = page.locator("table.signing-keys tbody tr")
        await expect(keys).to_have_count(1)
        old = await keys.first.get_attribute("data-kid")
        assert old
        await page.get_by_label("Token lifetime (seconds)").fill("10")
        await page.get_by_role("button", name="Save the keys settings").click()
        await expect(page.locator("#settings-saved")).to_be_visible()
        await expect(page.get_by_label("Token lifetime (seconds)")).to_have_value("10")
        await shot(page, "keys-page")

        await page.get_by_role("button", name="Rotate keys").click()
        phases = page.locator("#plan table.key-phases tbody tr")
        await expect(phases).to_have_count(3)
        await expect(phases.first).to_contain_text("add the new key")
        await expect(phases.last).to_contain_text("10 s (the token lifetime)")
        await shot(page, "keys-plan")

        await page.get_by_role("button", name="Run the rotation").click()
        assert await finished(page) == "succeeded"
        done = page.locator("table.key-phases tbody tr")
        await expect(done).to_have_count(3)
        await expect(page.locator("table.key-phases .health-ok")).to_have_count(3)
        await shot(page, "keys-rotated-job")

        await page.goto(page_path)
        await expect(keys).to_have_count(1)
        new = await keys.first.get_attribute("data-kid")
        assert new and new != old
        await expect(keys.first).to_contain_text("signs new tokens")
        await expect(page.locator("#rotation-state")).to_have_count(0)
        await shot(page, "keys-after")
