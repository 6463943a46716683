"""The logs page: search with highlights, the histogram's counts, paging, the errors of
a bad query, the context of a hit, and the live tail's messages; on SQLite and on
PostgreSQL, with records put in through the store's own ingest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import groupby

import httpx
import pytest

from clustermgr.components.logs import pages, read, tailstream
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import LogRecord, ResumePoint
from clustermgr.logstore.store import log_store
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role
from clustermgr.web import sse
from logsamples import sample_records
from webfixture import client, create_user, running_app, sign_in

pytestmark = pytest.mark.integration

CLUSTER = "logged"
SERVERS = (("idp1", Role.IDENTITY), ("idp2", Role.IDENTITY), ("lb", Role.PROXY))


async def put(manager: Manager, records: list[LogRecord]) -> None:
    """Store records as the collector does: one ingest per host and source."""
    store = log_store(manager)
    key = lambda r: (r.host, r.source)  # noqa: E731
    for (host, source), group in groupby(sorted(records, key=key), key=key):
        await store.ingest(CLUSTER, host, source, list(group), ResumePoint())


@pytest.fixture
async def gui(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Manager]]:
    """A signed-in GUI client on an app of the test's database, with the cluster's three
    servers and the sample records of the last few minutes stored."""
    await create_user(settings)
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        await clusters.create_cluster(manager, CLUSTER)
        async with manager.store() as inventory:
            for octet, (host, role) in enumerate(SERVERS, start=10):
                spec = ServerSpec(CLUSTER, host, f"192.0.2.{octet}", role)
                await inventory.add_server(spec, None, [])
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        await put(manager, sample_records(start))
        async with client(app=app) as http:
            await sign_in(http)
            yield http, manager


class Page(HTMLParser):
    """The parts of a logs page a person reads: each result row's cells, the marked
    words, the links, the alert box's text and the histogram's bars."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str]] = []
        self.marks: list[str] = []
        self.links: list[str] = []
        self.bars: list[list[int]] = []
        self.alert = ""
        self._cells: list[str] | None = None
        self._row: dict[str, str] = {}
        self._in: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._in.append(tag)
        if tag == "tr" and "data-id" in a:
            self._row = {"id": a["data-id"], "class": a.get("class", "")}
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cells.append("")
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif tag == "div" and "logs-histogram" in a.get("class", ""):
            self.bars = json.loads(a["data-bars"])
        elif tag == "div" and a.get("class") == "alert":
            self.alert = " "
        elif tag == "mark":
            self.marks.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()
        if tag == "tr" and self._cells is not None:
            time, host, source, level, message, *_ = self._cells
            cells = {"time": time, "host": host, "source": source, "level": level}
            self._row |= {k: v.strip() for k, v in cells.items()}
            self.rows.append(self._row | {"message": message})
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cells and self._in[-1:] != ["tr"]:
            self._cells[-1] += data
        if "mark" in self._in:
            self.marks[-1] += data
        if self.alert:
            self.alert += data


async def test_a_search_shows_its_hits_highlighted_their_count_and_histogram(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, _ = gui
    answer = await http.get(f"/clusters/{CLUSTER}/logs", params={"q": "refused"})
    assert answer.status_code == 200, answer.text
    page = Page(answer.text)
    assert [(r["host"], r["level"]) for r in page.rows] == [
        ("idp2", "warning"),
        ("idp1", "error"),
    ]
    assert page.marks == ["refused", "refused"]
    assert "2 matching records" in answer.text
    assert sum(n for _, n in page.bars) == 2 and len(page.bars) == pages.BARS
    # The help line names the cluster's hosts and sources.
    for word in ("<code>idp1</code>", "<code>lb</code>", "<code>nginx-access</code>"):
        assert word in answer.text
    # Each hit links its context, carrying the search; the range buttons keep the query.
    assert f"/clusters/{CLUSTER}/logs/{page.rows[0]['id']}/context?q=refused&from=1h" in page.links
    assert f"/clusters/{CLUSTER}/logs?q=refused&from=15m" in page.links

    phrase = await http.get(
        f"/clusters/{CLUSTER}/logs", params={"q": '"read timed out" level:error'}
    )
    page = Page(phrase.text)
    [hit] = page.rows
    assert hit["source"] == "oxauth" and "java.net.SocketTimeoutException" in hit["message"]
    assert page.marks == ["Read timed out"]

    status = Page((await http.get(f"/clusters/{CLUSTER}/logs", params={"q": "status:5xx"})).text)
    assert [r["source"] for r in status.rows] == ["nginx-access"]


async def test_user_text_in_a_record_is_escaped_and_its_hits_marked(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, manager = gui
    now = datetime.now(UTC)
    hostile = '<script>alert("x")</script> <b>login</b> failed for <img src=x>'
    await put(manager, [LogRecord(now, "idp1", "oxauth", "error", hostile)])
    answer = await http.get(f"/clusters/{CLUSTER}/logs", params={"q": "login failed"})
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text and "<img src=x>" not in answer.text
    assert "&lt;script&gt;alert(" in answer.text
    page = Page(answer.text)
    [row] = page.rows
    assert row["message"] == hostile
    assert page.marks == ["login", "failed"]


async def test_a_bad_query_or_time_is_a_clear_error_above_the_box(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, _ = gui
    for params, words in (
        ({"q": '"unclosed'}, "quote"),
        ({"q": "colour:red"}, "filter"),
        ({"q": "status:7"}, "status"),
        ({"q": "refused", "from": "yesterday"}, "invalid since"),
        ({"q": "x", "from": "2026-12-06T10:00:00", "to": "2026-12-06T09:00:00"}, "empty"),
        ({"before": "soon"}, "invalid page"),
    ):
        answer = await http.get(f"/clusters/{CLUSTER}/logs", params=params)
        assert answer.status_code == 400, (params, answer.text)
        page = Page(answer.text)
        assert words in page.alert.lower(), (params, page.alert)
        assert page.rows == []
        # The box still holds what was typed, to correct it.
        assert 'id="logs-q"' in answer.text
    missing = await http.get("/clusters/nowhere/logs")
    assert missing.status_code == 404


async def test_a_host_link_and_a_custom_range_and_older_pages(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, manager = gui
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    many = [
        LogRecord(end - timedelta(seconds=n), "idp2", "syslog", "info", f"tick {n} of the clock")
        for n in range(150, 0, -1)
    ]
    await put(manager, many)
    # The link of a host around a time: host=, from= and to= as ISO times.
    params = {
        "host": "idp2",
        "from": (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    first = await http.get(f"/clusters/{CLUSTER}/logs", params=params)
    assert first.status_code == 200, first.text
    page = Page(first.text)
    assert 'value="host:idp2"' in first.text
    assert len(page.rows) == pages.PAGE and "150 matching records" in first.text
    assert page.rows[0]["message"] == "tick 1 of the clock"
    [older] = [link for link in page.links if "before=" in link]
    second = Page((await http.get(older.replace("&amp;", "&"))).text)
    assert [r["message"] for r in second.rows] == [
        f"tick {n} of the clock" for n in range(101, 151)
    ]
    assert not [link for link in second.links if "before=" in link]
    # The default hour does not reach three hours back.
    recent = Page((await http.get(f"/clusters/{CLUSTER}/logs", params={"q": "tick"})).text)
    assert recent.rows == []


async def test_the_context_of_a_hit_marks_it_among_its_hosts_lines(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, _ = gui
    found = Page((await http.get(f"/clusters/{CLUSTER}/logs", params={"q": "conn 1001 SRCH"})).text)
    [hit] = found.rows
    url = f"/clusters/{CLUSTER}/logs/{hit['id']}/context"
    fragment = await http.get(url, params={"q": "SRCH"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200, fragment.text
    assert fragment.text.lstrip().startswith("{% from") is False
    assert "<html" not in fragment.text and 'class="context-row"' in fragment.text
    rows = Page(fragment.text).rows
    assert {r["host"] for r in rows} == {"idp1"} and len(rows) == 5
    [marked] = [r for r in rows if "hit" in r["class"]]
    assert marked["id"] == hit["id"] and "SRCH" in marked["message"]
    assert Page(fragment.text).marks == ["SRCH"]
    whole = await http.get(url)
    assert whole.status_code == 200 and "<html" in whole.text
    assert f"Around record {hit['id']} on idp1" in whole.text
    missing = await http.get(f"/clusters/{CLUSTER}/logs/999999/context")
    assert missing.status_code == 404


async def test_the_live_tail_sends_what_is_stored_after_and_refuses_bad_input(
    gui: tuple[httpx.AsyncClient, Manager],
) -> None:
    http, manager = gui
    bad = await http.get(f"/clusters/{CLUSTER}/logs/tail", params={"q": '"open'})
    assert bad.status_code == 400 and "quote" in bad.text
    assert (await http.get("/clusters/nowhere/logs/tail")).status_code == 404
    # A stream counts among the user's: one too many is refused before it starts.
    held = [sse.STREAMS.take(manager, "admin") for _ in range(manager.settings.streams_per_user)]
    try:
        refused = await http.get(f"/clusters/{CLUSTER}/logs/tail", params={"q": "x"})
        assert refused.status_code == 429, refused.text
    finally:
        for release in held:
            release()
    start = await read.newest_id(manager, CLUSTER)
    terms = parse_query("refused").highlight_terms()
    frames = await tailstream.tail_stream(
        manager,
        CLUSTER,
        "refused",
        user="admin",
        poll=0.05,
        shape=pages.record_shape(CLUSTER, terms),
    )
    assert (await anext(frames)).startswith(f"event: ready\nid: {start}\n")
    now = datetime.now(UTC)
    await put(
        manager,
        [
            LogRecord(now, "idp1", "syslog", "info", "nothing to see"),
            LogRecord(now, "idp2", "syslog", "error", "connect from 10.0.0.9 refused"),
        ],
    )
    frame = await asyncio.wait_for(anext(frames), 10)
    head, data = frame.split("data: ")
    message = json.loads(data)
    assert head.startswith("event: record\nid: ") and message["host"] == "idp2"
    assert ["refused", True] in message["parts"]
    assert message["context"] == f"/clusters/{CLUSTER}/logs/{message['id']}/context"
    await frames.aclose()
    assert sse.STREAMS.count(manager, "admin") == 0
