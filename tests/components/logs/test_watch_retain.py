"""The watcher's pruning: each cluster's logs kept within its own settings' age and
size, about hourly, a failure logged and tried again; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from clustermgr.components.logs.settingsstore import change_settings
from clustermgr.components.logs.watch import PRUNE_EVERY, LogsWatch
from clustermgr.core.manager import Manager
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import LogStore
from clustermgr.services import clusters
from logsamples import sample_records

DAY = timedelta(days=1)
#: About a kilobyte a record, so that a day of records counts in megabytes.
PADDING = "padding " * 125
PER_DAY = 600


async def ingest_days(store: LogStore, cluster: str, days_ago: list[int], *, big: bool) -> None:
    """Records of each day ``days_ago`` back, marked ``dN`` (``PER_DAY`` of about 1 KB
    each when ``big``, the ten samples otherwise)."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    sample = sample_records()[0]
    for ago in days_ago:
        if big:
            records = [
                replace(
                    sample, at=today - ago * DAY + timedelta(seconds=i), message=f"{PADDING}d{ago}"
                )
                for i in range(PER_DAY)
            ]
        else:
            records = [
                replace(
                    r, at=today - ago * DAY + timedelta(seconds=i), message=f"{r.message} d{ago}"
                )
                for i, r in enumerate(sample_records())
            ]
        await store.ingest(cluster, "idp1", "mixed", records, ResumePoint())


async def pruned(watch: LogsWatch, cluster: str, now: float) -> int | None:
    """What the pruning ``retain`` starts gives (it must start one)."""
    task = watch.retain(cluster, now)
    assert task is not None, "a pruning was due"
    return await task


async def held(store: LogStore, cluster: str, day: str) -> int:
    return await store.count(cluster, parse_query(day), since=None, until=None)


async def test_old_records_go_by_the_clusters_own_age(manager: Manager) -> None:
    for name in ("c1", "c2"):
        await clusters.create_cluster(manager, name)
    watch = LogsWatch(manager)
    await ingest_days(watch.store, "c1", [5, 3, 1, 0], big=False)
    await ingest_days(watch.store, "c2", [5, 3, 0], big=False)
    await change_settings(manager, "c1", {"max_age_days": 2}, actor="test")
    assert await pruned(watch, "c1", now=100.0) == 20
    assert [await held(watch.store, "c1", d) for d in ("d5", "d3", "d1", "d0")] == [0, 0, 10, 10]
    # c2 keeps the default 14 days: nothing of it goes.
    assert await pruned(watch, "c2", now=100.0) == 0
    assert [await held(watch.store, "c2", d) for d in ("d5", "d3", "d0")] == [10, 10, 10]


async def test_the_oldest_go_beyond_the_clusters_size(manager: Manager) -> None:
    for name in ("c1", "c2"):
        await clusters.create_cluster(manager, name)
    watch = LogsWatch(manager)
    await ingest_days(watch.store, "c1", [3, 2, 1, 0], big=True)
    await ingest_days(watch.store, "c2", [3, 2], big=True)
    await change_settings(manager, "c1", {"max_megabytes": 1}, actor="test")
    removed = await pruned(watch, "c1", now=100.0)
    assert removed is not None and removed >= 2 * PER_DAY
    # The oldest days went (SQLite: rows until what is left fits; PostgreSQL: whole day
    # partitions); the newest day stays.
    assert await held(watch.store, "c1", "d3") == await held(watch.store, "c1", "d2") == 0
    assert await held(watch.store, "c1", "d0") == PER_DAY
    assert [await held(watch.store, "c2", d) for d in ("d3", "d2")] == [PER_DAY, PER_DAY]


async def test_pruning_is_hourly_and_a_failure_is_retried_next_time(
    manager: Manager, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await clusters.create_cluster(manager, "c1")
    watch = LogsWatch(manager)
    calls: list[str] = []

    async def broken(cluster: str, *, max_age: timedelta, max_bytes: int) -> int:
        calls.append(cluster)
        raise OSError("disk on fire")

    real = watch.store.prune
    monkeypatch.setattr(watch.store, "prune", broken)
    with caplog.at_level(logging.INFO, logger="clustermgr.components.logs.watch"):
        assert await pruned(watch, "c1", now=1000.0) is None
        assert "pruning its logs failed" in caplog.text
        # Not again within the hour, failed or not.
        assert watch.retain("c1", now=1000.0 + PRUNE_EVERY - 1) is None
        assert calls == ["c1"]
        monkeypatch.setattr(watch.store, "prune", real)
        await ingest_days(watch.store, "c1", [30], big=False)
        assert await pruned(watch, "c1", now=1000.0 + PRUNE_EVERY) == 10
        assert "c1: 10 log records pruned (older than 14 days or beyond 1024 MB)" in caplog.text
        assert watch.retain("c1", now=1000.0 + PRUNE_EVERY + 1) is None
    # A cluster that is gone is logged, not raised.
    assert await pruned(watch, "gone", now=0.0) is None
    assert "cluster gone: pruning its logs failed" in caplog.text


async def test_a_pruning_runs_beside_the_checks_one_at_a_time(
    manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    await clusters.create_cluster(manager, "c1")
    watch = LogsWatch(manager)
    release = asyncio.Event()

    async def slow(cluster: str, *, max_age: timedelta, max_bytes: int) -> int:
        await release.wait()
        return 3

    monkeypatch.setattr(watch.store, "prune", slow)
    first = watch.retain("c1", now=0.0)
    assert first is not None and not first.done()
    # Due again, but the first still runs: no second one.
    assert watch.retain("c1", now=PRUNE_EVERY + 1) is None
    await watch.forget("c1")
    release.set()
    assert await first == 3
    assert watch.retain("c1", now=PRUNE_EVERY), "due once it ended"
    await watch.close()
