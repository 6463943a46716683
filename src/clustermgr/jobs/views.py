"""Jobs and their events as plain values, for every front end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clustermgr.jobs.models import Job, JobEvent, JobState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    cluster: str
    state: JobState
    mutating: bool
    requested_by: str
    params: dict[str, Any]
    runner: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    result: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(
            id=job.id,
            kind=job.kind,
            cluster=job.cluster,
            state=JobState(job.state),
            mutating=job.mutating,
            requested_by=job.requested_by,
            params=dict(job.params or {}),
            runner=job.runner,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            cancel_requested=job.cancel_requested,
            result=job.result,
            error=job.error,
        )

    @property
    def finished(self) -> bool:
        return not self.state.active

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "cluster": self.cluster,
            "state": self.state.value,
            "mutating": self.mutating,
            "requested_by": self.requested_by,
            "params": self.params,
            "runner": self.runner,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "cancel_requested": self.cancel_requested,
            "result": self.result,
            "error": self.error,
        }


@dataclass(frozen=True)
class JobSummary:
    """A job's row without its params and full result: what a list of jobs shows.
    ``ok`` and ``counts`` are the report's verdict and its steps per outcome (plans and
    applies), when it has them."""

    id: int
    kind: str
    cluster: str
    state: JobState
    mutating: bool
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    runner: str = "embedded"
    cancel_requested: bool = False
    ok: bool | None = None
    counts: dict[str, int] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return not self.state.active

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "cluster": self.cluster,
            "state": self.state.value,
            "mutating": self.mutating,
            "requested_by": self.requested_by,
            "runner": self.runner,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "cancel_requested": self.cancel_requested,
            "ok": self.ok,
            "counts": self.counts,
            "error": self.error,
        }


def verdict(value: Any) -> bool | None:
    """A report's ``ok`` as read from the database (SQLite hands JSON true back as 1)."""
    if isinstance(value, bool):
        return value
    return bool(value) if isinstance(value, int) else None


def step_counts(value: Any) -> dict[str, int] | None:
    """A report's ``counts`` when it is steps per outcome; None for anything else."""
    if not isinstance(value, dict):
        return None
    if all(isinstance(k, str) and type(n) is int for k, n in value.items()):
        return dict(value)
    return None


@dataclass(frozen=True)
class EventView:
    seq: int
    kind: str
    host: str | None
    step: str | None
    outcome: str | None
    message: str
    at: datetime
    #: A plan's progress (None on other events and on events stored before it was counted).
    done: int | None = None
    planned: int | None = None

    @classmethod
    def of(cls, event: JobEvent) -> EventView:
        return cls(
            event.seq,
            event.kind,
            event.host,
            event.step,
            event.outcome,
            event.message,
            event.at,
            event.done,
            event.planned,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "host": self.host,
            "step": self.step,
            "outcome": self.outcome,
            "message": self.message,
            "at": _iso(self.at),
            "done": self.done,
            "planned": self.planned,
        }
