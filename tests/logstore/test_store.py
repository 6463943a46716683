"""The log store, on SQLite and on PostgreSQL: the same queries find the same records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.logstore import common
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import LogStore, log_store
from logsamples import SAMPLES, START, sample_records

RESUME = ResumePoint(inode=7, offset=4096, fingerprint="0a0b")


@pytest.fixture
async def store(manager: Manager) -> AsyncIterator[LogStore]:
    found = log_store(manager)
    # One at a time, in time order: ids follow the samples' order.
    for record in sample_records():
        await found.ingest("c1", record.host, record.source, [record], RESUME)
    yield found


async def messages(store: LogStore, text: str, cluster: str = "c1") -> list[str]:
    found = await store.search(cluster, parse_query(text), since=None, until=None)
    return [r.record.message for r in found]


def sample(*indexes: int) -> list[str]:
    """The samples' messages at ``indexes``, newest first (as a search gives them)."""
    return [SAMPLES[i][3] for i in sorted(indexes, reverse=True)]


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("refused", (1, 9)),
        ('"connection refused"', (9,)),
        ('"refused connection"', ()),
        ("connection refused", (9,)),
        ("refused -kernel", (1,)),
        ("-slapd -conn -GET -POST -java -systemd -kernel", (1,)),
        ("10.0.0.5", (1, 5)),
        ('"10.0.0.50"', (6,)),
        ("conn=1001", (2, 3)),
        ("conn=10010", (4,)),
        ('dn="cn=directory manager,o=gluu"', (2,)),
        ('dn="cn=directory manager,o=gluu" method=129', ()),
        ('"cn=directory manager,o=gluu"', (2,)),
        ("5f0c2b9e-3c1d-4f7a-9b2e-7d1a0c4e8f21", (7,)),
        ("SocketTimeoutException", (7,)),
        ('"Read timed out"', (7,)),
        ("/oxauth/restv1/token", (5,)),
        ("status:502", (5,)),
        ("status:5xx", (5,)),
        ("status:2xx", (6,)),
        ("status:404", ()),
        ("host:idp2", (4, 8, 9)),
        ("host:idp1 host:idp2 level:error", (1, 7)),
        ("level:>=warning", (1, 7, 9)),
        ("source:slapd op", (2, 3, 4)),
        ("NEAR(", ()),
        ("AND OR", ()),
        ("LdapEntryManager.java:233", (7,)),
        ("", (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)),
    ],
)
async def test_queries_find_the_same_records_on_both(
    store: LogStore, text: str, hits: tuple[int, ...]
) -> None:
    assert await messages(store, text) == sample(*hits)
    assert await store.count("c1", parse_query(text), since=None, until=None) == len(hits)


async def test_other_clusters_records_stay_apart(store: LogStore) -> None:
    assert await messages(store, "refused", cluster="c2") == []


async def test_time_range_limit_and_paging_back(store: LogStore) -> None:
    q = parse_query("")
    since, until = START + timedelta(seconds=2), START + timedelta(seconds=5)
    found = await store.search("c1", q, since=since, until=until)
    assert [r.record.message for r in found] == sample(2, 3, 4)
    page = await store.search("c1", q, since=None, until=None, limit=2)
    older = await store.search("c1", q, since=None, until=None, limit=2, before_id=page[-1].id)
    assert [r.record.message for r in page + older] == sample(6, 7, 8, 9)
    refused = await store.search("c1", parse_query("refused"), since=None, until=None, limit=1)
    rest = await store.search(
        "c1", parse_query("refused"), since=None, until=None, before_id=refused[0].id
    )
    assert [r.record.message for r in refused + rest] == sample(1, 9)
    with pytest.raises(InvalidInput):
        await store.search("c1", q, since=until, until=since)


async def test_records_come_back_as_stored(store: LogStore) -> None:
    [found] = await store.search("c1", parse_query("status:502"), since=None, until=None)
    assert found.record == sample_records()[5]


async def test_histogram_counts_every_bucket(store: LogStore) -> None:
    bars = await store.histogram(
        "c1", parse_query("-slapd"), since=START, until=START + timedelta(seconds=20), buckets=4
    )
    # One record a second from 0 to 9; no message holds the word "slapd".
    assert bars == [
        (START, 5),
        (START + timedelta(seconds=5), 5),
        (START + timedelta(seconds=10), 0),
        (START + timedelta(seconds=15), 0),
    ]
    bars = await store.histogram(
        "c1", parse_query("conn"), since=START, until=START + timedelta(seconds=10), buckets=2
    )
    assert bars == [(START, 3), (START + timedelta(seconds=5), 0)]


async def test_context_is_the_same_hosts_records_by_time(store: LogStore) -> None:
    [one] = await store.search("c1", parse_query("host:idp1 SRCH"), since=None, until=None)
    around = await store.context("c1", one.id, before=2, after=1)
    assert [r.record.message for r in around] == sample(7, 3, 2, 1)[::-1]
    with pytest.raises(NotFound):
        await store.context("c2", one.id)


async def test_after_tails_the_newer_matching_records(store: LogStore) -> None:
    [first] = await store.search("c1", parse_query("systemd"), since=None, until=None)
    newer = await store.after("c1", parse_query("refused"), first.id)
    assert [r.record.message for r in newer] == sample(1, 9)[::-1]
    newer = await store.after("c1", parse_query(""), first.id, limit=2)
    assert [r.record.message for r in newer] == sample(1, 2)[::-1]
    assert await store.after("c1", parse_query(""), newer[-1].id + 100) == []


async def test_resume_points_are_kept_per_source(store: LogStore) -> None:
    journal = ResumePoint(cursor="s=abc;i=1")
    await store.ingest("c1", "idp1", "journal", [], journal)
    assert await store.resume_points("c1", "idp1") == {
        "syslog": RESUME,
        "slapd": RESUME,
        "oxauth": RESUME,
        "journal": journal,
    }
    assert await store.resume_points("c1", "nowhere") == {}


async def test_a_failed_ingest_stores_neither_records_nor_resume_point(
    manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = log_store(manager)

    async def fail(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(
        f"clustermgr.logstore.{store.kind.replace('postgresql', 'postgres')}.save_resume", fail
    )
    with pytest.raises(RuntimeError):
        await store.ingest("c1", "idp1", "syslog", sample_records()[:3], RESUME)
    monkeypatch.undo()
    assert await messages(store, "") == []
    assert await store.resume_points("c1", "idp1") == {}
    assert common.save_resume is not fail
