"""The series store on SQLite and PostgreSQL: writing points, rolling closed minutes and
hours up once, pruning by age, and reading back at the resolution a window calls for."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.monitor.series import ingest, retention, rollup
from clustermgr.monitor.series.ingest import Point, SeriesIds
from clustermgr.monitor.series.models import MetricHour, MetricMinute, MetricPoint, MetricSeries
from clustermgr.monitor.series.query import Resolution, query, resolution_for
from clustermgr.monitor.watcher import Watcher

#: A Monday 00:00:00 UTC: minutes and hours start on it.
T0 = 1_796_515_200
CLUSTER = "prod"


async def count(manager: Manager, table: type[object]) -> int:
    async with manager.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def put(manager: Manager, ids: SeriesIds, at: int, **values: float) -> None:
    await ingest.write(manager, ids, at, [Point("idp1", n, (), v) for n, v in values.items()])


async def test_points_name_each_series_once_and_a_second_write_keeps_the_first(
    manager: Manager,
) -> None:
    ids = SeriesIds(CLUSTER)
    await put(manager, ids, T0, load1=1.0, load5=2.0)
    await put(manager, SeriesIds(CLUSTER), T0 + 10, load1=3.0)  # another process
    await put(manager, ids, T0 + 10, load1=9.0)  # the same second again
    assert await count(manager, MetricSeries) == 2
    assert await count(manager, MetricPoint) == 3
    answer = await query(manager, CLUSTER, ["load1"], start=T0, end=T0 + 20, step=10)
    assert answer.series[0].points == [(T0, 1.0), (T0 + 10, 3.0)]


async def test_minutes_and_hours_roll_up_once_each_as_they_close(manager: Manager) -> None:
    ids = SeriesIds(CLUSTER)
    first = await rollup.roll(manager, CLUSTER, T0)
    assert first.minutes == (T0, T0)  # starts with the minute now running
    for n in range(12):  # two minutes of points every 10 s: 0..5 then 6..11
        await put(manager, ids, T0 + 10 * n, load1=float(n))
    rolled = await rollup.roll(manager, CLUSTER, T0 + 125)
    assert rolled.minutes == (T0, T0 + 120)
    async with manager.db.session() as session:
        minutes = (await session.execute(select(MetricMinute).order_by(MetricMinute.at))).scalars()
        got = [(m.at - T0, m.avg, m.min, m.max, m.count) for m in minutes]
    assert got == [(0, 2.5, 0, 5, 6), (60, 8.5, 6, 11, 6)]
    again = await rollup.roll(manager, CLUSTER, T0 + 179)
    assert again.minutes == (T0 + 120, T0 + 120)  # nothing new closed
    assert await count(manager, MetricMinute) == 2
    # The hour closes: its average weighs each minute by its points.
    await put(manager, ids, T0 + 150, load1=100.0)
    await rollup.roll(manager, CLUSTER, T0 + 3600)
    async with manager.db.session() as session:
        hour = (await session.execute(select(MetricHour))).scalar_one()
    assert (hour.at, hour.count, hour.min, hour.max) == (T0, 13, 0, 100)
    assert hour.avg == pytest.approx((sum(range(12)) + 100) / 13)


async def test_a_cluster_rolls_only_its_own_series(manager: Manager) -> None:
    await rollup.roll(manager, CLUSTER, T0)
    await put(manager, SeriesIds("other"), T0 + 5, load1=1.0)
    await rollup.roll(manager, CLUSTER, T0 + 60)
    assert await count(manager, MetricMinute) == 0


async def test_pruning_keeps_each_resolution_its_own_time(manager: Manager) -> None:
    ids = SeriesIds(CLUSTER)
    await rollup.roll(manager, CLUSTER, T0)
    await put(manager, ids, T0, load1=1.0)
    await put(manager, ids, T0 + 7200, load1=2.0)
    await rollup.roll(manager, CLUSTER, T0 + 7200 + 3600)
    assert (await count(manager, MetricMinute), await count(manager, MetricHour)) == (2, 2)
    keep = retention.Keep(raw=3600, minutes=2 * 3600, hours=10 * 3600)
    pruned = await retention.prune(manager, keep, now=T0 + 7200 + 1800)
    assert pruned == retention.Pruned(raw=1, minutes=1, hours=0)
    assert await count(manager, MetricPoint) == 1


@pytest.mark.parametrize(
    ("span", "resolution"),
    [(3600, "raw"), (6 * 3600, "raw"), (6 * 3600 + 1, "1m"), (7 * 86400, "1m"), (8 * 86400, "1h")],
)
def test_the_window_picks_the_resolution(span: int, resolution: str) -> None:
    assert resolution_for(span) == Resolution(resolution)


async def test_a_read_has_a_value_per_step_and_none_where_nothing_was_stored(
    manager: Manager,
) -> None:
    ids = SeriesIds(CLUSTER)
    for at in (T0, T0 + 10, T0 + 40):  # nothing between T0+20 and T0+40: a gap
        await put(manager, ids, at, load1=float(at - T0))
    await ingest.write(manager, ids, T0, [Point("idp2", "load1", (), 7.0)])
    answer = await query(manager, CLUSTER, ["load1"], start=T0, end=T0 + 60, step=20, host="idp1")
    assert (answer.resolution, answer.step, answer.start) == (Resolution.RAW, 20, T0)
    assert [s.host for s in answer.series] == ["idp1"]
    assert answer.series[0].points == [(T0, 5.0), (T0 + 20, None), (T0 + 40, 40.0)]
    both = await query(manager, CLUSTER, ["load1", "load5"], start=T0, end=T0 + 60, step=60)
    assert [(s.host, s.points) for s in both.series] == [
        ("idp1", [(T0, 50 / 3)]),
        ("idp2", [(T0, 7.0)]),
    ]


async def test_a_long_window_reads_the_roll_ups_with_a_step_at_least_theirs(
    manager: Manager,
) -> None:
    ids = SeriesIds(CLUSTER)
    await rollup.roll(manager, CLUSTER, T0)
    await put(manager, ids, T0 + 30, load1=4.0)
    await rollup.roll(manager, CLUSTER, T0 + 3600)
    day = await query(manager, CLUSTER, ["load1"], start=T0, end=T0 + 86400, step=1)
    assert (day.resolution, day.step) == (Resolution.MINUTE, 60)
    assert day.series[0].points[0] == (T0, 4.0)
    assert day.series[0].points[1] == (T0 + 60, None)
    month = await query(manager, CLUSTER, ["load1"], start=T0, end=T0 + 30 * 86400)
    assert month.resolution is Resolution.HOUR and month.step % 3600 == 0
    assert month.series[0].points[0] == (T0, 4.0)
    assert len(month.series[0].points) <= 2000
    raw = await query(
        manager, CLUSTER, ["load1"], start=T0, end=T0 + 86400, resolution=Resolution.RAW
    )
    assert raw.resolution is Resolution.RAW and raw.series[0].points[0] == (T0, 4.0)


async def test_an_empty_window_or_step_is_refused(manager: Manager) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await query(manager, CLUSTER, ["load1"], start=T0, end=T0)
    with pytest.raises(InvalidInput, match="step"):
        await query(manager, CLUSTER, ["load1"], start=T0, end=T0 + 60, step=0)


async def test_the_watcher_prunes_the_series_store_hourly_with_its_samples(
    manager: Manager,
) -> None:
    now = int(time.time())
    ids = SeriesIds(CLUSTER)
    await put(manager, ids, now - 3 * 86400, load1=1.0)  # past the 48 hours raw points keep
    await put(manager, ids, now - 60, load1=2.0)
    watcher = Watcher(manager, [], kinds=KindCatalog(()))
    await watcher.cycle()
    assert await count(manager, MetricPoint) == 1
