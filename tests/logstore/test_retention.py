"""Retention keeps each cluster's logs within an age and a size, and only that cluster's."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from clustermgr.core.manager import Manager
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.retention import ROW_OVERHEAD
from clustermgr.logstore.store import LogStore, log_store
from logsamples import sample_records

DAY = timedelta(days=1)
BIG = 10**12


async def ingest_days(store: LogStore, cluster: str, days_ago: list[int]) -> None:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for ago in days_ago:
        records = [
            replace(r, at=today - ago * DAY + timedelta(seconds=i), message=f"{r.message} d{ago}")
            for i, r in enumerate(sample_records())
        ]
        await store.ingest(cluster, "idp1", "mixed", records, ResumePoint())


async def days_left(store: LogStore, cluster: str) -> set[str]:
    found = await store.search(cluster, parse_query(""), since=None, until=None, limit=1000)
    return {r.record.message.rsplit(" ", 1)[1] for r in found}


async def test_old_days_go_and_other_clusters_stay(manager: Manager) -> None:
    store = log_store(manager)
    await ingest_days(store, "c1", [5, 3, 1, 0])
    await ingest_days(store, "c2", [5, 0])
    removed = await store.prune("c1", max_age=2 * DAY, max_bytes=BIG)
    assert removed == 20
    assert await days_left(store, "c1") == {"d1", "d0"}
    assert await days_left(store, "c2") == {"d5", "d0"}
    # The index forgot the records that went: a word only they held finds nothing.
    assert await store.count("c1", parse_query("d5"), since=None, until=None) == 0
    assert await store.count("c2", parse_query("d5"), since=None, until=None) == 10


async def test_the_oldest_go_while_the_cluster_is_too_big(manager: Manager) -> None:
    store = log_store(manager)
    await ingest_days(store, "c1", [3, 2, 1, 0])
    assert await store.prune("c1", max_age=30 * DAY, max_bytes=BIG) == 0
    if store.kind == "sqlite":
        # Rows go oldest first until what is left (as the store counts it) fits.
        one_day = sum(
            len(r.message.encode()) + 3 + len(json.dumps(dict(r.fields))) + ROW_OVERHEAD
            for r in sample_records()
        )
        assert await store.prune("c1", max_age=30 * DAY, max_bytes=one_day) == 30
    else:
        # Whole days go, oldest first; however small the limit, the newest day stays.
        assert await store.prune("c1", max_age=30 * DAY, max_bytes=1) == 30
    assert await days_left(store, "c1") == {"d0"}
    await ingest_days(store, "c2", [3])
    assert await days_left(store, "c2") == {"d3"}


async def test_a_late_record_of_a_pruned_day_is_stored_again(manager: Manager) -> None:
    store, pruner = log_store(manager), log_store(manager)
    await ingest_days(store, "c1", [5, 0])
    assert await pruner.prune("c1", max_age=2 * DAY, max_bytes=BIG) == 10
    # The collector's store takes records of the day retention dropped elsewhere (a
    # follower catching up).
    await ingest_days(store, "c1", [5])
    assert await days_left(store, "c1") == {"d5", "d0"}
