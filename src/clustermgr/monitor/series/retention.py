"""Pruning the series store: raw points, minutes and hours each kept as long as set."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from clustermgr.core.manager import Manager
from clustermgr.monitor.series.models import MetricHour, MetricMinute, MetricPoint
from clustermgr.settings import Settings


@dataclass(frozen=True)
class Keep:
    """How long (seconds) each resolution is kept."""

    raw: int
    minutes: int
    hours: int


@dataclass(frozen=True)
class Pruned:
    raw: int
    minutes: int
    hours: int


async def prune(manager: Manager, keep: Keep, now: int) -> Pruned:
    """Delete what is older than ``keep`` says, at ``now`` (epoch seconds)."""
    counts = []
    async with manager.db.session() as session:
        for table, seconds in (
            (MetricPoint, keep.raw),
            (MetricMinute, keep.minutes),
            (MetricHour, keep.hours),
        ):
            done = await session.execute(delete(table).where(table.at < now - seconds))
            counts.append(int(done.rowcount))  # type: ignore[attr-defined]
    return Pruned(*counts)


def keep_of(settings: Settings) -> Keep:
    """The retention the settings ask for."""
    return Keep(
        raw=round(settings.metrics_raw_hours * 3600),
        minutes=round(settings.metrics_minute_days * 86400),
        hours=round(settings.metrics_hour_days * 86400),
    )
