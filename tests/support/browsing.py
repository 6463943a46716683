"""Helpers of the browser tests (Chromium via Playwright): screenshots, waits, sign-in.

Screenshots go to ``test-artifacts/screenshots/`` for a person to look at.  The
fixtures (``browser``, ``tab``) are in :mod:`browserfixtures`; a test with a server of its
own opens :func:`chromium` and :func:`tab_on` itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium; the test is skipped where Debian's chromium is not installed."""
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


@asynccontextmanager
async def tab_on(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    """A page on ``base_url``; the test fails if the browser reported an error (a form
    answered with its error, 400, is expected; CSP, scripts and 403/404/5xx are not)."""
    context = await browser.new_context(base_url=base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        await context.close()
    unexpected = [e for e in errors if not e.endswith("status of 400 (Bad Request)")]
    assert unexpected == [], f"the browser reported errors: {unexpected}"


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
