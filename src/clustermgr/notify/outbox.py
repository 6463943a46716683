"""The outbox: rows written with the alert transitions, claimed and settled by dispatchers.

:func:`enqueue` runs inside the transaction that opens or resolves alerts, so a
message exists exactly when its event does.  An opened episode gets a row for
every enabled channel whose filters take it (its cluster, its severity; an
episode whose severity changes reaches the channels that take it then); a
resolved one gets a row for every enabled channel that got its opening.

:func:`claim` takes rows for one dispatcher with a conditional UPDATE each (two
manager processes sharing the database never take the same row), per channel
in order: a channel's rows go out oldest first, and a row waiting for its retry
holds back the rows behind it.  At most ``per_minute`` messages go to one
channel in any minute; the rest wait their turn, nothing is dropped.
:func:`settle` records the outcome: sent, or due again after a back-off that
doubles with each attempt up to :data:`BACKOFF_CAP`.  Sent rows are kept as long
as samples, then pruned (:func:`prune`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor.models import Alert
from clustermgr.notify.channels import takes
from clustermgr.notify.message import Notice, alerts_link
from clustermgr.notify.models import Channel, OutboxRow

#: Seconds before the first retry; each further attempt doubles it.
BACKOFF_BASE = 5.0
#: The longest wait between two attempts (seconds).
BACKOFF_CAP = 600.0
#: Most rows one claim looks at.
CLAIM_SCAN = 500


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(0, attempts - 1))


async def enqueue(
    session: AsyncSession,
    opened: Sequence[Alert],
    resolved: Sequence[Alert],
    *,
    changed: Sequence[Alert] = (),
) -> int:
    """Add the rows of these transitions to ``session``'s transaction; how many.

    ``changed``: open alerts whose severity changed; a channel that takes the new
    severity and was not told of the opening is told now (a warning that became
    critical reaches the critical-only channels once).
    """
    if not opened and not resolved and not changed:
        return 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    if opened or changed:
        channels = (
            await session.execute(
                select(Channel.id, Channel.min_severity, Channel.cluster).where(Channel.enabled)
            )
        ).all()
        known: set[tuple[int, int]] = set()
        if changed:
            found = await session.execute(
                select(OutboxRow.channel_id, OutboxRow.alert_id).where(
                    OutboxRow.event == "opened",
                    OutboxRow.alert_id.in_([a.id for a in changed]),
                )
            )
            known = {(cid, aid) for cid, aid in found.all()}
        rows += [
            {"channel_id": cid, "alert_id": a.id, "event": "opened", "due_at": now}
            for a in (*opened, *changed)
            for cid, least, cluster in channels
            if cluster in (None, a.cluster)
            and takes(least, a.severity)
            and (cid, a.id) not in known
        ]
    if resolved:
        told = await session.execute(
            select(OutboxRow.channel_id, OutboxRow.alert_id)
            .join(Channel, Channel.id == OutboxRow.channel_id)
            .where(
                OutboxRow.event == "opened",
                OutboxRow.alert_id.in_([a.id for a in resolved]),
                Channel.enabled,
            )
        )
        rows += [
            {"channel_id": cid, "alert_id": aid, "event": "resolved", "due_at": now}
            for cid, aid in told.all()
        ]
    if rows:
        await session.execute(insert(OutboxRow), rows)
    return len(rows)


@dataclass(frozen=True)
class Delivery:
    """A claimed row with what sending it needs."""

    row: int
    attempts: int
    channel: int
    channel_name: str
    kind: str
    config: dict[str, Any]
    ciphertext: bytes | None
    notice: Notice


async def claim(
    manager: Manager,
    holder: str,
    *,
    lease_seconds: float,
    per_minute: int,
    link_base: str | None = None,
) -> list[Delivery]:
    """Claim the rows this dispatcher sends now (committed before any is sent)."""
    now = utcnow()
    pending = (
        select(OutboxRow.id, OutboxRow.channel_id, OutboxRow.due_at, OutboxRow.claimed_until)
        .join(Channel, Channel.id == OutboxRow.channel_id)
        .where(OutboxRow.sent_at.is_(None), Channel.enabled)
        .order_by(OutboxRow.channel_id, OutboxRow.id)
        .limit(CLAIM_SCAN)
    )
    busy = (
        select(OutboxRow.channel_id, func.count())
        .where(
            or_(
                OutboxRow.sent_at >= now - timedelta(seconds=60),
                (OutboxRow.sent_at.is_(None)) & (OutboxRow.claimed_until >= now),
            )
        )
        .group_by(OutboxRow.channel_id)
    )
    async with manager.db.session() as session:
        used = {cid: int(n) for cid, n in (await session.execute(busy)).all()}
        picked: list[int] = []
        blocked: set[int] = set()
        for row, cid, due, claimed_until in (await session.execute(pending)).all():
            if cid in blocked:
                continue
            taken_by_other = claimed_until is not None and claimed_until >= now
            if due > now or taken_by_other or used.get(cid, 0) >= per_minute:
                blocked.add(cid)  # its later rows wait behind this one
                continue
            used[cid] = used.get(cid, 0) + 1
            picked.append(row)
        mine: list[int] = []
        until = now + timedelta(seconds=lease_seconds)
        for row in picked:
            done = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row,
                    OutboxRow.sent_at.is_(None),
                    or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                )
                .values(claimed_by=holder, claimed_until=until)
            )
            if done.rowcount:  # type: ignore[attr-defined]
                mine.append(row)
        if not mine:
            return []
        found = await session.execute(
            select(OutboxRow, Channel, Alert)
            .join(Channel, Channel.id == OutboxRow.channel_id)
            .join(Alert, Alert.id == OutboxRow.alert_id)
            .where(OutboxRow.id.in_(mine))
            .order_by(OutboxRow.channel_id, OutboxRow.id)
        )
        return [
            Delivery(
                row=out.id,
                attempts=out.attempts,
                channel=channel.id,
                channel_name=channel.name,
                kind=channel.kind,
                config=dict(channel.config),
                ciphertext=channel.ciphertext,
                notice=notice_of(alert, out.event, link_base),
            )
            for out, channel, alert in found.all()
        ]


def notice_of(alert: Alert, event: str, link_base: str | None) -> Notice:
    return Notice(
        event=event,
        cluster=alert.cluster,
        component=alert.component,
        key=alert.key,
        severity=alert.severity,
        message=alert.message,
        opened_at=alert.opened_at,
        resolved_at=alert.resolved_at if event == "resolved" else None,
        link=alerts_link(link_base, alert.cluster),
    )


async def settle(manager: Manager, delivery: Delivery, holder: str, error: str | None) -> None:
    """Record a send: ``error`` None (sent) or what failed (due again after a back-off)."""
    now = utcnow()
    attempts = delivery.attempts + 1
    async with manager.db.session() as session:
        mine = (OutboxRow.id == delivery.row) & (OutboxRow.claimed_by == holder)
        if error is None:
            values: dict[str, Any] = {"sent_at": now, "last_error": ""}
            state: dict[str, Any] = {"failing_since": None, "last_error": "", "last_sent_at": now}
        else:
            values = {"due_at": now + timedelta(seconds=backoff(attempts)), "last_error": error}
            state = {
                "failing_since": func.coalesce(Channel.failing_since, now),
                "last_error": error,
            }
        await session.execute(
            update(OutboxRow)
            .where(mine)
            .values(attempts=attempts, claimed_by=None, claimed_until=None, **values)
        )
        await session.execute(update(Channel).where(Channel.id == delivery.channel).values(**state))


async def release(manager: Manager, rows: Sequence[Delivery], holder: str) -> None:
    """Give claimed rows back unsent (their channel failed first): claimable at once."""
    if not rows:
        return
    async with manager.db.session() as session:
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([d.row for d in rows]), OutboxRow.claimed_by == holder)
            .values(claimed_by=None, claimed_until=None)
        )


async def prune(manager: Manager, *, older_than: timedelta) -> int:
    """Delete the rows sent longer ago than ``older_than``; how many went."""
    async with manager.db.session() as session:
        done = await session.execute(
            delete(OutboxRow).where(OutboxRow.sent_at < utcnow() - older_than)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]
