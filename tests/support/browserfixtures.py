"""Fixtures of the browser tests: Debian's Chromium for the module, and a tab on the live
server that fails its test when the page reports an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from browsing import chromium, tab_on


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def tab(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    async with tab_on(browser, live_server) as page:
        yield page
