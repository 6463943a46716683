"""Roll-ups: the raw points of each closed minute, and the minutes of each closed hour.

:func:`roll` runs after each scrape of a cluster.  It rolls up only what closed
since it last ran (up to where is kept per cluster in :class:`MetricRollup`), with
one INSERT ... SELECT per table that the database groups itself: a minute's
average, least, greatest and count from its raw points, an hour's from its minutes
(the average weighted by the minutes' counts).  The first call for a cluster starts
at the minute and hour then running.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from clustermgr.core.manager import Manager
from clustermgr.monitor.series.ingest import insert_ignoring
from clustermgr.monitor.series.models import (
    MetricHour,
    MetricMinute,
    MetricPoint,
    MetricRollup,
    MetricSeries,
)

MINUTE = 60
HOUR = 3600


def period_start(at: int, period: int) -> int:
    """The start of the period (a minute, an hour: seconds) that holds ``at``."""
    return at // period * period


@dataclass(frozen=True)
class Rolled:
    """The periods :func:`roll` closed: ``[start, end)`` each (empty when start == end)."""

    minutes: tuple[int, int]
    hours: tuple[int, int]


async def roll(manager: Manager, cluster: str, now: int) -> Rolled:
    """Roll up ``cluster``'s minutes and hours that closed by ``now`` (epoch seconds)."""
    minute_end, hour_end = period_start(now, MINUTE), period_start(now, HOUR)
    async with manager.db.session() as session:
        state = await session.get(MetricRollup, cluster, with_for_update=True)
        if state is None:
            session.add(
                MetricRollup(cluster=cluster, minutes_until=minute_end, hours_until=hour_end)
            )
            return Rolled((minute_end, minute_end), (hour_end, hour_end))
        minutes = (state.minutes_until, max(state.minutes_until, minute_end))
        hours = (state.hours_until, max(state.hours_until, hour_end))
        of_cluster = select(MetricSeries.id).where(MetricSeries.cluster == cluster)
        if minutes[0] < minutes[1]:
            start = (MetricPoint.at // MINUTE) * MINUTE
            await session.execute(
                insert_ignoring(session, MetricMinute).from_select(
                    ["series_id", "at", "avg", "min", "max", "count"],
                    select(
                        MetricPoint.series_id,
                        start,
                        func.avg(MetricPoint.value),
                        func.min(MetricPoint.value),
                        func.max(MetricPoint.value),
                        func.count(),
                    )
                    .where(
                        MetricPoint.series_id.in_(of_cluster),
                        MetricPoint.at >= minutes[0],
                        MetricPoint.at < minutes[1],
                    )
                    .group_by(MetricPoint.series_id, start),
                )
            )
            state.minutes_until = minutes[1]
        if hours[0] < hours[1]:
            start = (MetricMinute.at // HOUR) * HOUR
            await session.execute(
                insert_ignoring(session, MetricHour).from_select(
                    ["series_id", "at", "avg", "min", "max", "count"],
                    select(
                        MetricMinute.series_id,
                        start,
                        func.sum(MetricMinute.avg * MetricMinute.count)
                        / func.sum(MetricMinute.count),
                        func.min(MetricMinute.min),
                        func.max(MetricMinute.max),
                        func.sum(MetricMinute.count),
                    )
                    .where(
                        MetricMinute.series_id.in_(of_cluster),
                        MetricMinute.at >= hours[0],
                        MetricMinute.at < hours[1],
                    )
                    .group_by(MetricMinute.series_id, start),
                )
            )
            state.hours_until = hours[1]
    return Rolled(minutes, hours)
