"""The series store's tables, in the manager's database.

A series is one measured thing of one host (``cpu`` of mode ``user`` on
``idp1``): a row of :class:`MetricSeries`, named once.  Its values are rows of
three tables keyed by (series, epoch second): the raw points as scraped
(:class:`MetricPoint`), and their roll-ups per minute and per hour
(:class:`MetricMinute`, :class:`MetricHour`: average, least, greatest and how
many points).  :class:`MetricRollup` remembers, per cluster, up to where each
roll-up is done, so each closed minute and hour is rolled up once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from clustermgr.db.base import Base


class MetricSeries(Base):
    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("cluster", "host", "name", "labels"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(253))
    #: The catalog's name: ``cpu``, ``redis_commands``...
    name: Mapped[str] = mapped_column(String(64))
    #: ``key=value`` pairs sorted by key, comma-separated ("" when none).
    labels: Mapped[str] = mapped_column(String(255), default="")


class MetricPoint(Base):
    """One raw value: a gauge as read, or a counter's rate since the scrape before."""

    __tablename__ = "metric_points"
    __table_args__ = (PrimaryKeyConstraint("series_id", "at"), Index("ix_metric_points_at", "at"))

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"))
    #: Seconds since the epoch (UTC).
    at: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)


class _Rollup:
    """The values of one series in one period that starts at ``at`` (epoch seconds)."""

    __tablename__: str

    @declared_attr.directive
    def __table_args__(cls) -> tuple[PrimaryKeyConstraint, Index]:
        return (PrimaryKeyConstraint("series_id", "at"), Index(f"ix_{cls.__tablename__}_at", "at"))

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"))
    at: Mapped[int] = mapped_column(BigInteger)
    avg: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class MetricMinute(_Rollup, Base):
    __tablename__ = "metric_minutes"


class MetricHour(_Rollup, Base):
    __tablename__ = "metric_hours"


class MetricRollup(Base):
    """Up to where (exclusive, epoch seconds) a cluster's roll-ups are done."""

    __tablename__ = "metric_rollups"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    minutes_until: Mapped[int] = mapped_column(BigInteger)
    hours_until: Mapped[int] = mapped_column(BigInteger)
