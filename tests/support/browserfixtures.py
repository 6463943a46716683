"""Fixtures of the browser tests: Debian's Chromium, and a tab on the live server
that fails its test when the page reports an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from browsing import CHROMIUM, CHROMIUM_ARGS, VIEWPORT


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
async def tab(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live_server, viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # A form answered with its error (400) is expected; CSP, scripts and 403/404/5xx are not.
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        await context.close()
    unexpected = [e for e in errors if not e.endswith("status of 400 (Bad Request)")]
    assert unexpected == [], f"the browser reported errors: {unexpected}"
