"""Reading series back: one function picks the resolution by the window and fills gaps.

:func:`query` answers for one cluster, some series names, optionally one host,
a window ``[start, end)`` (epoch seconds) and a step: raw points for windows up
to :data:`RAW_UP_TO`, 1-minute roll-ups up to :data:`MINUTES_UP_TO`, 1-hour ones
beyond.  The database averages each step (a roll-up's average weighted by its
count); a step with nothing stored is ``None``, never zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.monitor.series.ingest import labels_of
from clustermgr.monitor.series.models import MetricHour, MetricMinute, MetricPoint, MetricSeries
from clustermgr.monitor.series.rollup import HOUR, MINUTE

#: Windows up to this long (seconds) are read from the raw points...
RAW_UP_TO = 6 * HOUR
#: ... up to this long from the 1-minute roll-ups, longer ones from the 1-hour ones.
MINUTES_UP_TO = 7 * 24 * HOUR
#: Most steps one answer holds per series (the step widens to fit).
MAX_STEPS = 2000
#: Steps a window is cut into when no step is asked for.
DEFAULT_STEPS = 120


class Resolution(StrEnum):
    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"

    @property
    def seconds(self) -> int:
        """The shortest step worth asking for at this resolution."""
        return {Resolution.RAW: 1, Resolution.MINUTE: MINUTE, Resolution.HOUR: HOUR}[self]


def resolution_for(span: int) -> Resolution:
    if span <= RAW_UP_TO:
        return Resolution.RAW
    if span <= MINUTES_UP_TO:
        return Resolution.MINUTE
    return Resolution.HOUR


def fit_step(span: int, resolution: Resolution, step: int | None) -> int:
    """The step an answer uses: the one asked for (default: the window in
    :data:`DEFAULT_STEPS`), at least the resolution's, at most :data:`MAX_STEPS` of them."""
    if step is not None and step < 1:
        raise InvalidInput(f"the step must be at least one second, not {step}")
    wanted = step if step is not None else math.ceil(span / DEFAULT_STEPS)
    return max(wanted, resolution.seconds, math.ceil(span / MAX_STEPS))


def _columns(
    resolution: Resolution,
) -> tuple[InstrumentedAttribute[int], InstrumentedAttribute[int], ColumnElement[float]]:
    """A resolution's series id and time columns, and the average of a step's rows."""
    if resolution is Resolution.RAW:
        return MetricPoint.series_id, MetricPoint.at, func.avg(MetricPoint.value)
    rolled = MetricMinute if resolution is Resolution.MINUTE else MetricHour
    weighted = func.sum(rolled.avg * rolled.count) / func.sum(rolled.count)
    return rolled.series_id, rolled.at, weighted


@dataclass(frozen=True)
class SeriesPoints:
    id: int
    name: str
    host: str
    labels: dict[str, str]
    #: (epoch seconds of the step's start, its average or None), every step of the window.
    points: list[tuple[int, float | None]]


@dataclass(frozen=True)
class Answer:
    start: int
    end: int
    step: int
    #: A :class:`Resolution` from the embedded store; the step (``60s``) from VictoriaMetrics.
    resolution: str
    series: list[SeriesPoints]


async def query(
    manager: Manager,
    cluster: str,
    names: Sequence[str],
    *,
    start: int,
    end: int,
    step: int | None = None,
    host: str | None = None,
    resolution: Resolution | None = None,
) -> Answer:
    """The series ``names`` of ``cluster`` (of ``host`` only, when given) over
    ``[start, end)``, one value per step; steps start at multiples of the step.
    ``resolution``: the table read (default: the one the window's length calls for)."""
    if end <= start:
        raise InvalidInput("the window is empty: 'to' must be after 'from'")
    resolution = resolution or resolution_for(end - start)
    step = fit_step(end - start, resolution, step)
    first = start // step * step
    id_column, at, average = _columns(resolution)
    wanted = select(MetricSeries).where(
        MetricSeries.cluster == cluster, MetricSeries.name.in_(names)
    )
    if host is not None:
        wanted = wanted.where(MetricSeries.host == host)
    bucket = ((at - first) // step).label("bucket")
    async with manager.db.session() as session:
        series = list(await session.scalars(wanted))
        rows = (
            await session.execute(
                select(id_column, bucket, average)
                .where(id_column.in_([s.id for s in series]), at >= first, at < end)
                .group_by(id_column, bucket)
            )
        ).all()
    values: dict[int, dict[int, float]] = {}
    for series_id, index, value in rows:
        values.setdefault(series_id, {})[int(index)] = float(value)
    steps = range(0, math.ceil((end - first) / step))
    order = {name: i for i, name in enumerate(names)}
    series.sort(key=lambda s: (order[s.name], s.host, s.labels))
    return Answer(
        first,
        end,
        step,
        resolution,
        [
            SeriesPoints(
                s.id,
                s.name,
                s.host,
                labels_of(s.labels),
                [(first + i * step, values.get(s.id, {}).get(i)) for i in steps],
            )
            for s in series
        ],
    )


async def latest(manager: Manager, series_ids: Sequence[int]) -> dict[int, tuple[int, float]]:
    """The newest raw point of each series: id -> (epoch seconds, value)."""
    if not series_ids:
        return {}
    newest = (
        select(MetricPoint.series_id, func.max(MetricPoint.at).label("at"))
        .where(MetricPoint.series_id.in_(series_ids))
        .group_by(MetricPoint.series_id)
        .subquery()
    )
    rows = select(MetricPoint.series_id, MetricPoint.at, MetricPoint.value).join(
        newest, (MetricPoint.series_id == newest.c.series_id) & (MetricPoint.at == newest.c.at)
    )
    async with manager.db.session() as session:
        return {i: (at, value) for i, at, value in (await session.execute(rows)).all()}
