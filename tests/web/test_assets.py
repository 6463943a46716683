"""Static files: pages link them by a URL with their content's hash, which browsers may
keep for a year; any other URL of a file revalidates by its ETag."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from clustermgr.settings import Settings
from clustermgr.web.assets import IMMUTABLE, PREFIX, StaticAssets
from webfixture import client, running_app


def served(folder: Path) -> tuple[StaticAssets, httpx.AsyncClient]:
    assets = StaticAssets(folder)
    app = Starlette(routes=[Mount(PREFIX, assets)])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return assets, http


async def test_a_versioned_url_is_immutable_and_other_urls_revalidate(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "app.css").write_text("body { color: black }\n")
    (tmp_path / "vendor" / "lib.js").write_text("let x = 1;\n")
    assets, http = served(tmp_path)
    async with http:
        url = assets.url("app.css")
        assert re.fullmatch(r"/static/app\.css\?v=[0-9a-f]{16}", url)
        answer = await http.get(url)
        assert answer.status_code == 200 and answer.text == "body { color: black }\n"
        assert answer.headers["cache-control"] == IMMUTABLE
        assert answer.headers["content-type"].startswith("text/css")
        etag = answer.headers["etag"]

        for stale in ("/static/app.css", "/static/app.css?v=0000000000000000"):
            answer = await http.get(stale)
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"
        unchanged = await http.get("/static/app.css", headers={"If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.content == b""

        nested = await http.get(assets.url("vendor/lib.js"))
        assert nested.status_code == 200 and nested.text == "let x = 1;\n"
        assert (await http.get("/static/missing.css")).status_code == 404
        assert (await http.get("/static/../app.css")).status_code == 404
        assert (await http.post(url)).status_code == 405

    (tmp_path / "app.css").write_text("body { color: red }\n")
    changed, http = served(tmp_path)
    async with http:
        assert changed.url("app.css") != url
        assert (await http.get(changed.url("app.css"))).text == "body { color: red }\n"


async def test_pages_link_every_static_file_by_its_versioned_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    async with running_app(settings) as app, client(app=app) as anon:
        await check_links(anon)


async def check_links(anon: httpx.AsyncClient) -> None:
    page = (await anon.get("/login")).text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(links) == 3 and all(re.search(r"\?v=[0-9a-f]{16}$", u) for u in links)
    for url in links:
        answer = await anon.get(url)
        assert answer.status_code == 200 and answer.headers["cache-control"] == IMMUTABLE
        # The security headers are on every answer, a file's too.
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert (await anon.get("/login")).headers["cache-control"] == "no-store"
