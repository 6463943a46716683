"""From what a scrape read to points in the store: counters become rates, then rows.

A scrape gives :class:`Reading` values: a gauge as it is, or a counter (a total
that only grows).  :class:`Rates` turns each counter into its rate per second
since the same series' previous reading, kept in memory: the first reading of a
series gives no point, and neither does a counter that went down (the daemon
restarted and counts from zero again), so a rate is never negative.
:func:`write` stores the points of one scrape (one time for all) in one
transaction, naming each new series once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from clustermgr.core.manager import Manager
from clustermgr.db.base import Base
from clustermgr.monitor.series.models import MetricPoint, MetricSeries

Labels = tuple[tuple[str, str], ...]


def labels_text(labels: Iterable[tuple[str, str]]) -> str:
    """The canonical form of a series' labels: ``key=value`` sorted by key, comma-separated."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels))


def labels_of(text: str) -> dict[str, str]:
    """The labels :func:`labels_text` wrote."""
    return dict(pair.split("=", 1) for pair in text.split(",") if pair)


@dataclass(frozen=True)
class Reading:
    """One value a scrape read from ``host``."""

    host: str
    name: str
    labels: Labels
    value: float
    #: A total that only grows (stored as its rate per second).
    counter: bool = False


@dataclass(frozen=True)
class Point:
    """One value to store for one series."""

    host: str
    name: str
    labels: Labels
    value: float

    @property
    def key(self) -> tuple[str, str, str]:
        return self.host, self.name, labels_text(self.labels)


class Rates:
    """The previous reading of every counter series (of one cluster), in memory."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str, Labels], tuple[float, float]] = {}

    def points(self, readings: Iterable[Reading], at: float) -> list[Point]:
        """Gauges as they are, counters as rates since their previous reading at ``at``
        (seconds; none for a first reading, a reset or no time passed)."""
        out: list[Point] = []
        for r in readings:
            if not r.counter:
                out.append(Point(r.host, r.name, r.labels, r.value))
                continue
            key = (r.host, r.name, r.labels)
            before = self._last.get(key)
            self._last[key] = (at, r.value)
            if before is None:
                continue
            then, was = before
            if r.value < was or at <= then:
                continue
            out.append(Point(r.host, r.name, r.labels, (r.value - was) / (at - then)))
        return out

    def forget(self, host: str) -> None:
        """Drop ``host``'s counters (it was not read): its next readings start anew, so
        no rate spans the time it was away."""
        for key in [k for k in self._last if k[0] == host]:
            del self._last[key]


def insert_ignoring(session: AsyncSession, table: type[Base]) -> Insert:
    """An INSERT into ``table`` that skips rows whose key is already there."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


class SeriesIds:
    """The ids of the series of one cluster, read or made once and then remembered."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._ids: dict[tuple[str, str, str], int] = {}

    async def of(
        self, session: AsyncSession, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], int]:
        wanted = set(keys)
        missing = wanted - self._ids.keys()
        if missing:
            await self._load(session, missing)
        missing = wanted - self._ids.keys()
        if missing:
            await session.execute(
                insert_ignoring(session, MetricSeries),
                [
                    {"cluster": self.cluster, "host": h, "name": n, "labels": lab}
                    for h, n, lab in sorted(missing)
                ],
            )
            await self._load(session, missing)
        return {k: self._ids[k] for k in wanted}

    async def _load(self, session: AsyncSession, keys: set[tuple[str, str, str]]) -> None:
        hosts = {h for h, _, _ in keys}
        rows = await session.execute(
            select(
                MetricSeries.id, MetricSeries.host, MetricSeries.name, MetricSeries.labels
            ).where(MetricSeries.cluster == self.cluster, MetricSeries.host.in_(hosts))
        )
        for id_, host, name, labels in rows:
            self._ids[(host, name, labels)] = id_


async def write(manager: Manager, ids: SeriesIds, at: int, points: Sequence[Point]) -> int:
    """Store ``points`` at ``at`` (epoch seconds); how many.  A point already stored for
    the same series and second is kept as it was."""
    if not points:
        return 0
    by_key = {p.key: p for p in points}
    async with manager.db.session() as session:
        known = await ids.of(session, by_key)
        await session.execute(
            insert_ignoring(session, MetricPoint),
            [{"series_id": known[k], "at": at, "value": p.value} for k, p in by_key.items()],
        )
    return len(by_key)
