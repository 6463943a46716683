"""The read functions every front uses, on SQLite and PostgreSQL, over records put in
through the store's ingest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clustermgr.components.logs import read
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import log_store
from clustermgr.services import clusters
from logsamples import SAMPLES, START, sample_records

NOW = START + timedelta(minutes=30)
RESUME = ResumePoint(inode=1, offset=10)


async def fill(manager: Manager, cluster: str = "c1") -> None:
    await clusters.create_cluster(manager, cluster)
    store = log_store(manager)
    for record in sample_records():
        await store.ingest(cluster, record.host, record.source, [record], RESUME)


def test_window_reads_durations_iso_times_and_refuses_the_rest() -> None:
    got = read.window("refused", "15m", None, now=NOW)
    assert (got.since, got.until) == (NOW - timedelta(minutes=15), NOW)
    assert got.query.highlight_terms() == ["refused"]
    default = read.window(None, None, None, now=NOW)
    assert default.until - default.since == timedelta(hours=1)
    iso = read.window("", "2026-12-06T09:00", "2026-12-06T11:00:00+01:00", now=NOW)
    assert iso.since == datetime(2026, 12, 6, 9, tzinfo=UTC)
    assert iso.until == datetime(2026, 12, 6, 10, tzinfo=UTC)
    back = read.window("", "2h", "2026-12-06T10:00:00Z", now=NOW)
    assert back.since == datetime(2026, 12, 6, 8, tzinfo=UTC)
    for q, since, until, said in [
        ("", "yesterday", None, "invalid since"),
        ("", None, "soon", "invalid until"),
        ("", "2026-12-06T11:00Z", "2026-12-06T10:00Z", "empty"),
        ("", "99999999d", None, "too long"),
        ('"open', None, None, "quote"),
        ("nope:x", None, None, "unknown filter"),
    ]:
        with pytest.raises(InvalidInput, match=said):
            read.window(q, since, until, now=NOW)


async def test_search_pages_back_counts_and_names_the_terms(manager: Manager) -> None:
    await fill(manager)
    every = read.window("", "1h", None, now=NOW)
    first = await read.search(manager, "c1", every, limit=4)
    assert [r.record.message for r in first.hits] == [s[3] for s in SAMPLES[::-1][:4]]
    assert first.total == len(SAMPLES) and first.before_id == first.hits[-1].id
    seen = list(first.hits)
    page = first
    while page.before_id is not None:
        page = await read.search(manager, "c1", every, limit=4, before_id=page.before_id)
        seen += page.hits
    assert [r.record.message for r in seen] == [s[3] for s in SAMPLES[::-1]]
    # A last page exactly full says there is no next one.
    exact = await read.search(manager, "c1", every, limit=len(SAMPLES))
    assert exact.before_id is None
    refused = await read.search(manager, "c1", read.window("refused", "1h", None, now=NOW))
    assert refused.total == 2 and refused.terms == ["refused"]
    data = refused.as_dict()
    assert data["next"] is None and data["total"] == 2
    hit = data["hits"][0]
    assert (
        hit["host"] == "idp2" and hit["level"] == "warning" and hit["at"] == "2026-12-06T10:00:09Z"
    )
    with pytest.raises(NotFound):
        await read.search(manager, "nowhere", every)
    with pytest.raises(InvalidInput, match="limit"):
        await read.search(manager, "c1", every, limit=0)


async def test_histogram_context_and_the_cluster_checked(manager: Manager) -> None:
    await fill(manager)
    await clusters.create_cluster(manager, "other")
    span = read.window("", "2026-12-06T10:00Z", "2026-12-06T10:00:10Z", now=NOW)
    counts = await read.histogram(manager, "c1", span, buckets=5)
    assert [n for _, n in counts] == [2, 2, 2, 2, 2]
    assert counts[0][0] == START
    page = await read.search(manager, "c1", read.window("UNBIND", "1h", None, now=NOW))
    [unbind] = page.hits
    around = await read.context(manager, "c1", unbind.id, lines=1)
    assert [r.record.host for r in around] == ["idp2", "idp2"]
    assert around[0].id == unbind.id
    with pytest.raises(NotFound):
        await read.context(manager, "other", unbind.id)
    with pytest.raises(NotFound):
        await read.context(manager, "c1", unbind.id + 1000)


async def test_tail_starts_after_the_newest_and_follows(manager: Manager) -> None:
    await fill(manager)
    follow = await read.tail(manager, "c1", "refused", poll=0.01)
    assert await anext(follow) == []
    store = log_store(manager)
    for record in sample_records(START + timedelta(minutes=1)):
        await store.ingest("c1", record.host, record.source, [record], RESUME)
    got = await anext(follow)
    assert [r.record.host for r in got] == ["idp1", "idp2"]
    assert got[0].record.at > START + timedelta(minutes=1)
    await follow.aclose()
    again = await read.tail(manager, "c1", "refused", after_id=got[0].id, poll=0.01)
    assert [r.id for r in await anext(again)] == [got[1].id]
    with pytest.raises(InvalidInput):
        await read.tail(manager, "c1", "level:loud")
    with pytest.raises(NotFound):
        await read.tail(manager, "nowhere", "")


def test_highlight_marks_whole_runs_and_phrases() -> None:
    text = "Connection refused from 10.0.0.5; refusedx 10.0.0.50"
    assert read.highlight(text, ["refused", "10.0.0.5"]) == [
        ("Connection ", False),
        ("refused", True),
        (" from ", False),
        ("10.0.0.5", True),
        ("; refusedx 10.0.0.50", False),
    ]
    assert read.highlight("a connection  refused", ['"connection refused"'.strip('"')]) == [
        ("a ", False),
        ("connection  refused", True),
    ]
    assert read.highlight("nothing here", []) == [("nothing here", False)]
    assert read.highlight("", ["x"]) == [("", False)]
    # Overlapping hits join into one.
    assert read.highlight("a b c", ["a b", "b c"]) == [("a b c", True)]
