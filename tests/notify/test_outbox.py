"""Outbox rows are written with the alert transitions (SQLite and PostgreSQL): one per
matching channel when an episode opens, one per channel told of it when it resolves;
two dispatchers never claim the same row; the rate limit holds the rest back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.notify import outbox, service
from clustermgr.notify.channels import ChannelSpec, Level, WebhookSettings
from clustermgr.notify.models import OutboxRow

DOWN = Finding("node-down:idp2.example.org", Severity.CRITICAL, "idp2: slapd does not answer")
SLOW = Finding("probe:idp1.example.org", Severity.WARNING, "idp1: the probe took 12 s")
HOOK = WebhookSettings(url="http://127.0.0.1:9/hook")


async def channel(
    manager: Manager, name: str, least: Level, cluster: str | None = None, enabled: bool = True
) -> None:
    spec = ChannelSpec(name=name, min_severity=least, cluster=cluster, enabled=enabled)
    await service.add_channel(manager, spec, HOOK)


async def rows(manager: Manager) -> list[tuple[str, int, str]]:
    """(channel name, alert id, event) of every row."""
    names = {c.id: c.name for c in await service.list_channels(manager)}
    async with manager.db.session() as session:
        found = await session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(names[r.channel_id], r.alert_id, r.event) for r in found]


async def test_rows_per_matching_channel_when_alerts_open_and_resolve(manager: Manager) -> None:
    await channel(manager, "all", Level.INFO)
    await channel(manager, "critical-only", Level.CRITICAL)
    await channel(manager, "other-cluster", Level.INFO, cluster="c2")
    await channel(manager, "off", Level.INFO, enabled=False)
    at = utcnow()
    first = await store.record_cycle(manager, Cycle("c1", "ldap", at, {}, findings=[DOWN, SLOW]))
    down, slow = sorted(first.opened, key=lambda a: a.key)
    assert sorted(await rows(manager)) == sorted(
        [
            ("all", down.id, "opened"),
            ("critical-only", down.id, "opened"),
            ("all", slow.id, "opened"),
        ]
    )
    # Still open: refreshed, no new row.
    await store.record_cycle(manager, Cycle("c1", "ldap", at, {}, findings=[DOWN, SLOW]))
    assert len(await rows(manager)) == 3
    # The slow probe resolves: only the channel told of its opening hears it.
    await store.record_cycle(manager, Cycle("c1", "ldap", at, {}, findings=[DOWN]))
    assert (await rows(manager))[3:] == [("all", slow.id, "resolved")]
    await store.record_cycle(manager, Cycle("c1", "ldap", at, {}))
    assert sorted((await rows(manager))[4:]) == [
        ("all", down.id, "resolved"),
        ("critical-only", down.id, "resolved"),
    ]


async def test_an_alert_that_becomes_critical_reaches_the_critical_channels_once(
    manager: Manager,
) -> None:
    await channel(manager, "all", Level.INFO)
    await channel(manager, "critical-only", Level.CRITICAL)
    warning = Finding(DOWN.key, Severity.WARNING, "idp2: slow")
    (alert,) = (
        await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=[warning]))
    ).opened
    assert await rows(manager) == [("all", alert.id, "opened")]
    for _ in range(2):  # critical now, and still critical: told once
        await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=[DOWN]))
    assert await rows(manager) == [
        ("all", alert.id, "opened"),
        ("critical-only", alert.id, "opened"),
    ]
    await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=[warning]))
    await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}))
    assert sorted((await rows(manager))[2:]) == [
        ("all", alert.id, "resolved"),
        ("critical-only", alert.id, "resolved"),
    ]


async def test_two_dispatchers_never_claim_the_same_row(manager: Manager) -> None:
    await channel(manager, "all", Level.INFO)
    await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=[DOWN, SLOW]))
    first = await outbox.claim(manager, "a", lease_seconds=60, per_minute=10)
    second = await outbox.claim(manager, "b", lease_seconds=60, per_minute=10)
    assert len(first) == 2 and second == []
    # A claim that expired (its holder died) is taken over.
    async with manager.db.session() as session:
        for row in await session.scalars(select(OutboxRow)):
            row.claimed_until = utcnow() - timedelta(seconds=1)
    assert len(await outbox.claim(manager, "b", lease_seconds=60, per_minute=10)) == 2


async def test_the_rate_limit_holds_messages_back_and_drops_none(manager: Manager) -> None:
    await channel(manager, "all", Level.INFO)
    findings = [Finding(f"node-down:idp{i}", Severity.CRITICAL, f"idp{i} down") for i in range(5)]
    await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=findings))
    claimed = await outbox.claim(manager, "a", lease_seconds=60, per_minute=3)
    assert len(claimed) == 3
    for delivery in claimed:
        await outbox.settle(manager, delivery, "a", None)
    # Three went this minute: the other two wait.
    assert await outbox.claim(manager, "a", lease_seconds=60, per_minute=3) == []
    async with manager.db.session() as session:
        for row in await session.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_not(None))):
            row.sent_at = utcnow() - timedelta(seconds=61)
    assert len(await outbox.claim(manager, "a", lease_seconds=60, per_minute=3)) == 2


async def test_sent_rows_are_pruned_after_the_retention(manager: Manager) -> None:
    await channel(manager, "all", Level.INFO)
    await store.record_cycle(manager, Cycle("c1", "ldap", utcnow(), {}, findings=[DOWN, SLOW]))
    first, second = await outbox.claim(manager, "a", lease_seconds=60, per_minute=10)
    await outbox.settle(manager, first, "a", None)
    await outbox.settle(manager, second, "a", None)
    async with manager.db.session() as session:
        row = await session.get(OutboxRow, first.row)
        assert row is not None
        row.sent_at = utcnow() - timedelta(days=8)
    assert await outbox.prune(manager, older_than=timedelta(days=7)) == 1
    async with manager.db.session() as session:
        left = list(await session.scalars(select(OutboxRow.id)))
    assert left == [second.row]


def test_back_off_doubles_up_to_its_cap() -> None:
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert outbox.backoff(50) == outbox.BACKOFF_CAP
