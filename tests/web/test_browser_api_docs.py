"""A signed-in user reads the API's documentation in a real browser (Swagger UI, our files).

Against a real ``clustermgr serve`` on an empty data folder of its own (no lab):
the page lists the operations, under the app's Content-Security-Policy, with no
file from elsewhere.  A screenshot goes to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from clustermgr.settings import Settings
from webfixture import ManagerProcess, WebUser, client, create_user, free_port, sign_in

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, WebUser]]:
    folder = tmp_path_factory.mktemp("apidocs")
    settings = Settings(data_dir=folder / "data", watch_enabled=False)
    user = await create_user(settings, "reader", "Quiet-Lantern-Harbor-42")
    server = ManagerProcess(settings, free_port(), folder / "serve.log")
    server.start()
    try:
        yield server.url, user
    finally:
        server.stop()


@pytest.fixture
def chromium() -> Iterator[Path]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    yield CHROMIUM


async def test_the_api_documentation_lists_the_operations(
    served: tuple[str, WebUser], chromium: Path
) -> None:
    url, user = served
    problems: list[str] = []
    elsewhere: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(
                base_url=url, viewport={"width": 1366, "height": 800}
            )
            page: Page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith((url, "data:")) else elsewhere.append(r.url),
            )
            await page.goto("/login?next=/account")
            await page.get_by_label("User name").fill(user.username)
            await page.get_by_label("Password").fill(user.password)
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("link", name="API documentation").first.click()
            await expect(page.get_by_role("heading", name="API documentation")).to_be_visible()
            operations = page.locator(".opblock")
            await expect(operations.first).to_be_visible(timeout=20_000)
            assert await operations.count() > 20, "every operation of the API is listed"
            await expect(
                page.locator(".opblock-summary-path", has_text="/api/v1/me")
            ).to_be_visible()
            await expect(page.get_by_text("/api/v1/jobs").first).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)
            await context.close()
        finally:
            await browser.close()
    assert problems == [], f"the browser reported errors (a CSP refusal shows here): {problems}"
    assert elsewhere == [], f"the page fetched files from elsewhere: {elsewhere}"


async def test_the_documentation_is_for_signed_in_users_only(served: tuple[str, WebUser]) -> None:
    url, user = served
    async with client(url) as anon:
        for path in ("/api-docs", "/api-docs/openapi.json"):
            answer = await anon.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    async with client(url) as http:
        await sign_in(http, user.username, user.password)
        page = await http.get("/api-docs")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text, "no inline script"
        document = (await http.get("/api-docs/openapi.json")).json()
        assert "/api/v1/me" in document["paths"]
        license_file = await http.get("/static/vendor/swagger-ui-5.36.0/LICENSE")
        assert license_file.status_code == 200 and "Apache License" in license_file.text
