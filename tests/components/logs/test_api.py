"""``/api/v1/clusters/{name}/logs``: search, histogram, context and the SSE tail, on
SQLite and PostgreSQL, over records put in through the store's ingest."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from clustermgr.auth.roles import UserRole
from clustermgr.components.logs import read
from clustermgr.core.manager import Manager
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import log_store
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.web import sse
from logsamples import SAMPLES, sample_records
from webfixture import client, create_user, free_port, running_app

pytestmark = pytest.mark.integration

RESUME = ResumePoint(inode=1, offset=10)
LOGS = "/api/v1/clusters/c1/logs"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app on the database of ``settings`` (SQLite or PostgreSQL), cluster ``c1`` with
    the samples stored ten minutes ago, and an admin's token."""
    admin = await create_user(settings)
    async with running_app(settings) as running:
        manager: Manager = running.state.web.manager
        await clusters.create_cluster(manager, "c1")
        await clusters.create_cluster(manager, "c2")
        await ingest(manager, datetime.now(UTC) - timedelta(minutes=10))
        yield running, admin.token


async def ingest(manager: Manager, start: datetime) -> None:
    store = log_store(manager)
    for record in sample_records(start):
        await store.ingest("c1", record.host, record.source, [record], RESUME)


async def test_search_pages_counts_and_refuses_bad_input(app: tuple[FastAPI, str]) -> None:
    running, token = app
    async with client(app=running, token=token) as http:
        first = await http.get(LOGS, params={"limit": 6})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["total"] == len(SAMPLES) and body["terms"] == []
        assert [h["message"] for h in body["hits"]] == [s[3] for s in SAMPLES[::-1][:6]]
        rest = await http.get(LOGS, params={"limit": 6, "before": body["next"]})
        assert [h["message"] for h in rest.json()["hits"]] == [s[3] for s in SAMPLES[::-1][6:]]
        assert rest.json()["next"] is None
        found = (await http.get(LOGS, params={"q": "refused level:>=warning"})).json()
        assert [(h["host"], h["level"]) for h in found["hits"]] == [
            ("idp2", "warning"),
            ("idp1", "error"),
        ]
        assert found["terms"] == ["refused"] and found["total"] == 2
        bad = await http.get(LOGS, params={"q": "status:5xx"})
        [hit] = bad.json()["hits"]
        assert hit["fields"]["status"] == 502 and hit["at"].endswith("Z")
        old = await http.get(LOGS, params={"since": "2h", "until": "2000-01-01T00:00:00"})
        assert old.json()["total"] == 0
        for params, said in [
            ({"q": '"unclosed'}, "quote"),
            ({"q": "colour:red"}, "unknown filter"),
            ({"q": "status:999"}, "bad status"),
            ({"q": "-- ..."}, "no letter or digit"),
            ({"since": "yesterday"}, "invalid since"),
            ({"since": "2026-12-06T11:00Z", "until": "2026-12-06T10:00Z"}, "empty"),
        ]:
            refused = await http.get(LOGS, params=params)
            assert refused.status_code == 400, (params, refused.text)
            assert refused.json()["error"] == "invalid_input"
            assert said in refused.json()["message"], refused.json()
        assert (await http.get(LOGS, params={"limit": 0})).status_code == 422
        missing = await http.get("/api/v1/clusters/nowhere/logs")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        empty = (await http.get("/api/v1/clusters/c2/logs")).json()
        assert (empty["hits"], empty["total"]) == ([], 0)
    async with client(app=running) as anon:
        assert (await anon.get(LOGS)).status_code == 401


async def test_a_viewer_reads_the_logs(app: tuple[FastAPI, str], settings: Settings) -> None:
    running, _ = app
    viewer = await create_user(settings, "watcher", role=UserRole.VIEWER)
    async with client(app=running, token=viewer.token) as http:
        found = await http.get(LOGS, params={"q": "UNBIND"})
        assert found.status_code == 200 and found.json()["total"] == 1


async def test_histogram_and_context(app: tuple[FastAPI, str]) -> None:
    running, token = app
    async with client(app=running, token=token) as http:
        counted = await http.get(f"{LOGS}/histogram", params={"since": "30m", "buckets": 30})
        assert counted.status_code == 200, counted.text
        body = counted.json()
        assert len(body["buckets"]) == 30 and sum(b["count"] for b in body["buckets"]) == 10
        assert body["buckets"][0]["at"] == body["since"]
        only = (await http.get(f"{LOGS}/histogram", params={"q": "host:lb"})).json()
        assert sum(b["count"] for b in only["buckets"]) == 2 and len(only["buckets"]) == 60
        refused = await http.get(f"{LOGS}/histogram", params={"q": "level:loud"})
        assert refused.status_code == 400 and "unknown level" in refused.json()["message"]

        [unbind] = (await http.get(LOGS, params={"q": "UNBIND"})).json()["hits"]
        around = await http.get(f"{LOGS}/{unbind['id']}/context", params={"lines": 5})
        assert around.status_code == 200, around.text
        records = around.json()["records"]
        assert around.json()["id"] == unbind["id"]
        assert {r["host"] for r in records} == {"idp2"}
        assert unbind["id"] in [r["id"] for r in records]
        assert [r["at"] for r in records] == sorted(r["at"] for r in records)
        other = await http.get(f"/api/v1/clusters/c2/logs/{unbind['id']}/context")
        assert other.status_code == 404
        gone = await http.get(f"{LOGS}/{unbind['id'] + 1000}/context")
        assert gone.status_code == 404 and "no log record" in gone.json()["message"]


@contextlib.asynccontextmanager
async def served(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` served on a loopback port: an endless stream needs a real
    server (an in-process transport waits for the answer's end)."""
    port = free_port()
    config = uvicorn.Config(
        app, port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        async with client(f"http://127.0.0.1:{port}", token=token) as http:
            yield http
    finally:
        server.should_exit = True
        await task


async def records_of(lines: AsyncIterator[str], count: int) -> list[tuple[int, dict[str, Any]]]:
    """The first ``count`` ``record`` messages of an SSE answer's lines: (id, data)."""
    got: list[tuple[int, dict[str, Any]]] = []
    event, event_id = "", 0
    async for text in lines:
        if text.startswith("event: "):
            event = text[7:]
        elif text.startswith("id: "):
            event_id = int(text[4:])
        elif text.startswith("data: ") and event == "record":
            got.append((event_id, json.loads(text[6:])))
            if len(got) == count:
                break
    return got


async def test_tail_streams_new_records_and_resumes(app: tuple[FastAPI, str]) -> None:
    running, token = app
    manager: Manager = running.state.web.manager
    async with served(running, token) as http:
        async with http.stream("GET", f"{LOGS}/tail", params={"q": "refused"}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith(sse.MEDIA_TYPE)
            # Nothing old comes: the tail starts after the newest stored record, and
            # says which that is first.
            newest = await read.newest_id(manager, "c1")
            lines = stream.aiter_lines()
            assert await anext(lines) == "event: ready"
            assert await anext(lines) == f"id: {newest}"
            await ingest(manager, datetime.now(UTC))
            got = await asyncio.wait_for(records_of(lines, 2), 10)
        assert [d["host"] for _, d in got] == ["idp1", "idp2"]
        assert [i for i, _ in got] == [d["id"] for _, d in got]
        assert all("refused" in d["message"] for _, d in got)
        # A client that comes back with Last-Event-ID gets what it missed.
        headers = {"Last-Event-ID": str(got[0][0])}
        async with http.stream(
            "GET", f"{LOGS}/tail", params={"q": "refused"}, headers=headers
        ) as again:
            [(resumed, _)] = await asyncio.wait_for(records_of(again.aiter_lines(), 1), 10)
        assert resumed == got[1][0]
        cases: list[tuple[dict[str, str | int], int]] = [
            ({"q": "level:loud"}, 400),
            ({"after": -1}, 422),
        ]
        for params, code in cases:
            assert (await http.get(f"{LOGS}/tail", params=params)).status_code == code
        refused = await http.get(f"{LOGS}/tail", headers={"Last-Event-ID": "x"})
        assert refused.status_code == 400
        assert (await http.get("/api/v1/clusters/nowhere/logs/tail")).status_code == 404


async def test_a_tail_counts_among_the_users_streams_until_it_ends(
    app: tuple[FastAPI, str],
) -> None:
    running, token = app
    manager: Manager = running.state.web.manager
    limit = manager.settings.streams_per_user
    async with served(running, token) as http:
        opened = [http.stream("GET", f"{LOGS}/tail") for _ in range(limit)]
        answers = [await s.__aenter__() for s in opened]
        assert all(a.status_code == 200 for a in answers)
        one_more = await http.get(f"{LOGS}/tail")
        assert one_more.status_code == 429 and one_more.json()["error"] == "limit_reached"
        for s in opened:
            await s.__aexit__(None, None, None)

    async def count() -> int:
        return sse.STREAMS.count(manager, "admin")

    for _ in range(100):
        if await count() == 0:
            break
        await asyncio.sleep(0.05)
    assert await count() == 0
