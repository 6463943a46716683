"""Helpers of the browser tests (Chromium via Playwright): screenshots, waits, sign-in.

Screenshots go to ``test-artifacts/screenshots/`` for a person to look at.  The
fixtures (``browser``, ``tab``) are in :mod:`browserfixtures`.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Locator, Page, expect

from polling import eventually
from webfixture import JOB_DEADLINE, WebUser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: A laptop screen.
VIEWPORT = {"width": 1366, "height": 800}
JOB_MS = JOB_DEADLINE * 1000


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def shot_of(part: Locator, name: str) -> None:
    """A screenshot of one part of a page (a drawing), at the size it is shown."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await part.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


async def until(page: Page, predicate: str, timeout: float = JOB_DEADLINE) -> None:
    """Poll a JS predicate (``wait_for_function`` evaluates strings, which the CSP forbids)."""
    await eventually(
        lambda: page.evaluate(predicate), timeout=timeout, interval=0.05, what=predicate
    )


async def finished(page: Page) -> str:
    """Wait for the job page to show the job finished and its outcome; the state."""
    await expect(page.locator("#job-done")).to_be_visible(timeout=JOB_MS)
    await expect(page.locator("#job-done")).to_contain_text("Finished")
    await expect(page.locator("#job-summary #cancel")).to_have_count(0)
    return (await page.locator("#job-state").inner_text()).strip()


async def sign_in_to(page: Page, user: WebUser, next_path: str) -> None:
    """Sign in through the login form, landing on ``next_path``."""
    await page.goto(f"/login?next={next_path}")
    await page.get_by_label("User name").fill(user.username)
    await page.get_by_label("Password").fill(user.password)
    await page.get_by_role("button", name="Sign in").click()
