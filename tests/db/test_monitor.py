"""The monitor's tables on SQLite and PostgreSQL: alert episodes, history, pruning, the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
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
    recent = await store.history(manager, "c1", "ldap", since=utcnow() - timedelta(minutes=5))
    assert len(recent) == 2 and recent[0].at < recent[1].at
    assert recent[0].as_dict()["peer"] == "idp2"
    assert await store.history(manager, "c1", "ldap", since=utcnow(), metric="lag_seconds") == []
    assert await store.history(manager, "other", "ldap", since=utcnow() - timedelta(days=9)) == []

    snapshot = await store.latest(manager, "c1", "ldap")
    assert snapshot is not None and snapshot.data == {"nodes": 0}
    assert await store.latest(manager, "c1", "cache") is None

    assert await store.prune(manager, older_than=timedelta(days=1)) == 1
    everything = await store.history(manager, "c1", "ldap", since=utcnow() - timedelta(days=9))
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
