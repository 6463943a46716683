"""The monitor's rows as plain values, for every front end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clustermgr.monitor.models import Alert, Sample, Snapshot


@dataclass(frozen=True)
class SampleView:
    at: datetime
    metric: str
    host: str
    peer: str | None
    value: float

    @classmethod
    def of(cls, row: Sample) -> SampleView:
        return cls(row.at, row.metric, row.host, row.peer, row.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "metric": self.metric,
            "host": self.host,
            "peer": self.peer,
            "value": self.value,
        }


@dataclass(frozen=True)
class Bucket:
    """The samples of one series within one step: from ``at`` for the history's step."""

    at: datetime
    avg: float
    min: float
    max: float
    count: int


@dataclass(frozen=True)
class SeriesView:
    """One metric of one host (towards ``peer``, if any) over time, oldest bucket first."""

    metric: str
    host: str
    peer: str | None
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class HistoryView:
    """Samples from ``since`` (inclusive) to ``until`` (exclusive) in buckets of ``step`` s."""

    since: datetime
    until: datetime
    step: int
    series: tuple[SeriesView, ...]


@dataclass(frozen=True)
class AlertView:
    id: int
    cluster: str
    component: str
    key: str
    severity: str
    message: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    #: The technical record behind ``message`` (a command, its stderr), masked.
    details: str = ""

    @classmethod
    def of(cls, row: Alert) -> AlertView:
        return cls(
            id=row.id,
            cluster=row.cluster,
            component=row.component,
            key=row.key,
            severity=row.severity,
            message=row.message,
            opened_at=row.opened_at,
            last_seen_at=row.last_seen_at,
            resolved_at=row.resolved_at,
            details=row.details or "",
        )

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "component": self.component,
            "key": self.key,
            "severity": self.severity,
            "message": self.message,
            "opened_at": self.opened_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "details": self.details,
        }


@dataclass(frozen=True)
class SnapshotView:
    cluster: str
    component: str
    at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, row: Snapshot) -> SnapshotView:
        return cls(row.cluster, row.component, row.at, dict(row.data or {}))
