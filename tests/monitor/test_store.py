"""The monitor's tables on SQLite and PostgreSQL: alert episodes, samples, history per step,
pruning, the lease."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.models import Alert
from clustermgr.monitor.store import Cycle, Measure

DOWN = Finding("node-down:idp2", Severity.CRITICAL, "idp2: slapd does not answer")
AGREEMENT = Finding("agreement:idp1<-idp2", Severity.CRITICAL, "idp1 cannot reach idp2")


def cycle(*findings: Finding, unknown: tuple[str, ...] = (), ago: float = 0) -> Cycle:
    return Cycle(
        cluster="c1",
        component="ldap",
        at=utcnow() - timedelta(seconds=ago),
        snapshot={"nodes": len(findings)},
        measures=[Measure("lag_seconds", "idp1", "idp2", 0.5)],
        findings=findings,
        unknown=unknown,
    )


async def test_an_alert_opens_once_is_refreshed_and_resolves(manager: Manager) -> None:
    first = await store.record_cycle(manager, cycle(DOWN, AGREEMENT, ago=10))
    assert {a.key for a in first.opened} == {DOWN.key, AGREEMENT.key} and not first.resolved

    again = await store.record_cycle(manager, cycle(DOWN, ago=5))  # the agreement is healthy
    assert again.opened == [] and [a.key for a in again.resolved] == [AGREEMENT.key]

    still = await store.alerts(manager, "c1", open_only=True)
    assert [a.key for a in still] == [DOWN.key]
    assert still[0].last_seen_at > still[0].opened_at

    await store.record_cycle(manager, cycle())
    assert await store.alerts(manager, "c1", open_only=True) == []
    episodes = await store.alerts(manager, "c1", open_only=False)
    assert sorted(a.key for a in episodes) == sorted([DOWN.key, AGREEMENT.key])
    assert all(a.resolved_at is not None for a in episodes)

    back = await store.record_cycle(manager, cycle(DOWN))  # the problem returns: a new episode
    assert [a.key for a in back.opened] == [DOWN.key]
    assert len(await store.alerts(manager, "c1", open_only=False)) == 3


async def test_an_alert_keeps_its_details_apart_from_its_words(manager: Manager) -> None:
    words = "a probe write on idp1 failed: idp1: a shell script exited with status 50"
    first = Finding("probe:idp1", Severity.WARNING, words, "command: sh -c 'set -e ...'")
    await store.record_cycle(manager, cycle(first, ago=5))
    (alert,) = await store.alerts(manager, "c1", open_only=True)
    assert alert.message == words and alert.details == "command: sh -c 'set -e ...'"
    assert alert.as_dict()["details"] == alert.details

    later = Finding("probe:idp1", Severity.WARNING, words, "command: sh -c 'other'")
    await store.record_cycle(manager, cycle(later))
    (alert,) = await store.alerts(manager, "c1", open_only=True)
    assert alert.details == "command: sh -c 'other'", "refreshed with the latest details"


async def test_a_key_that_could_not_be_judged_keeps_its_alert(manager: Manager) -> None:
    await store.record_cycle(manager, cycle(DOWN, AGREEMENT))
    kept = await store.record_cycle(manager, cycle(DOWN, unknown=(AGREEMENT.key,)))
    assert kept.resolved == []
    assert {a.key for a in await store.alerts(manager, "c1", open_only=True)} == {
        DOWN.key,
        AGREEMENT.key,
    }


def alert_row(resolved: bool) -> Alert:
    now = utcnow()
    return Alert(
        cluster="c1",
        component="ldap",
        key=DOWN.key,
        severity="critical",
        message="by hand",
        opened_at=now,
        last_seen_at=now,
        resolved_at=now if resolved else None,
    )


async def test_the_database_refuses_a_second_open_alert_for_one_key(manager: Manager) -> None:
    await store.record_cycle(manager, cycle(DOWN))
    with pytest.raises(IntegrityError):
        async with manager.db.session() as session:
            session.add(alert_row(resolved=False))
    async with manager.db.session() as session:  # resolved episodes may repeat
        session.add_all([alert_row(resolved=True), alert_row(resolved=True)])


async def test_history_window_snapshot_and_pruning(manager: Manager) -> None:
    await store.record_cycle(manager, cycle(ago=3 * 86400))
    await store.record_cycle(manager, cycle(ago=60))
    await store.record_cycle(manager, cycle())
    recent = await store.samples(manager, "c1", "ldap", since=utcnow() - timedelta(minutes=5))
    assert len(recent) == 2 and recent[0].at < recent[1].at
    assert recent[0].as_dict()["peer"] == "idp2"
    assert await store.samples(manager, "c1", "ldap", since=utcnow(), metric="lag_seconds") == []
    assert await store.samples(manager, "other", "ldap", since=utcnow() - timedelta(days=9)) == []

    snapshot = await store.latest(manager, "c1", "ldap")
    assert snapshot is not None and snapshot.data == {"nodes": 0}
    assert await store.latest(manager, "c1", "cache") is None

    assert await store.prune(manager, older_than=timedelta(days=1)) == 1
    everything = await store.samples(manager, "c1", "ldap", since=utcnow() - timedelta(days=9))
    assert len(everything) == 2


async def test_one_lease_holder_at_a_time(manager: Manager) -> None:
    assert await store.take_lease(manager, "ldap:c1", "a", seconds=30)
    assert not await store.take_lease(manager, "ldap:c1", "b", seconds=30)
    assert await store.take_lease(manager, "ldap:c1", "a", seconds=30)  # renewed
    assert await store.take_lease(manager, "ldap:c2", "b", seconds=30)  # another cluster

    assert await store.take_lease(manager, "ldap:c1", "a", seconds=-1)  # now expired
    assert await store.take_lease(manager, "ldap:c1", "b", seconds=30)
    assert not await store.take_lease(manager, "ldap:c1", "a", seconds=30)

    await store.release_lease(manager, "ldap:c1", "b")
    assert await store.take_lease(manager, "ldap:c1", "a", seconds=30)


T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def record_series(manager: Manager, cluster: str = "h1") -> None:
    """Every 30 s for 10 minutes from T0: lag i (idp1<-idp2), probe 1.0, and a cache value."""
    for i in range(20):
        at = T0 + timedelta(seconds=30 * i)
        measures = [
            Measure("lag_seconds", "idp1", "idp2", float(i)),
            Measure("probe_seconds", "idp2", "idp1", 1.0),
        ]
        await store.record_cycle(manager, Cycle(cluster, "ldap", at, {}, measures))
        cache = [Measure("redis_used_memory", "idp1", None, 1000.0 + i)]
        await store.record_cycle(manager, Cycle(cluster, "cache", at, {}, cache))


async def test_history_averages_each_series_per_step_in_the_database(manager: Manager) -> None:
    await record_series(manager)
    until = T0 + timedelta(minutes=10)
    found = await store.history(manager, "h1", "ldap", since=T0, until=until, step=120)
    assert found.step == 120 and found.since == T0 and found.until == until
    assert [(s.metric, s.host, s.peer) for s in found.series] == [
        ("lag_seconds", "idp1", "idp2"),
        ("probe_seconds", "idp2", "idp1"),
    ]
    lag = found.series[0].buckets
    assert [b.at for b in lag] == [T0 + timedelta(minutes=2 * k) for k in range(5)]
    assert [(b.avg, b.min, b.max, b.count) for b in lag] == [
        (1.5 + 4 * k, 4.0 * k, 4.0 * k + 3, 4) for k in range(5)
    ]
    assert {b.avg for b in found.series[1].buckets} == {1.0}

    cache = await store.history(manager, "h1", "cache", since=T0, until=until, step=600)
    assert [(b.avg, b.count) for b in cache.series[0].buckets] == [(1009.5, 20)]
    assert cache.series[0].peer is None


async def test_history_window_is_since_inclusive_until_exclusive(manager: Manager) -> None:
    await record_series(manager)
    since, until = T0 + timedelta(seconds=60), T0 + timedelta(seconds=150)
    found = await store.history(
        manager, "h1", "ldap", since=since, until=until, step=60, metric="lag_seconds"
    )
    (lag,) = found.series
    # Samples at 60, 90 (bucket 0) and 120 (bucket 1); 150 is the end, left out.
    assert [(b.at, b.count, b.max) for b in lag.buckets] == [
        (since, 2, 3.0),
        (since + timedelta(seconds=60), 1, 4.0),
    ]
    assert (
        await store.history(manager, "other", "ldap", since=T0, until=until, step=60)
    ).series == ()


async def test_history_widens_a_step_that_would_make_too_many_buckets(manager: Manager) -> None:
    await record_series(manager)
    until = T0 + timedelta(days=30)
    found = await store.history(manager, "h1", "ldap", since=T0, until=until, step=1)
    assert found.step == math.ceil(30 * 86400 / store.MAX_BUCKETS)
    assert [len(s.buckets) for s in found.series] == [1, 1]
    assert found.series[0].buckets[0].count == 20
    with pytest.raises(InvalidInput):
        await store.history(manager, "h1", "ldap", since=T0, until=T0, step=60)
    with pytest.raises(InvalidInput):
        await store.history(manager, "h1", "ldap", since=T0, until=until, step=0)
