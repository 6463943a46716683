"""The job table and its events. The row is the truth every front end reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clustermgr.db.base import Base, Timestamped, UTCDateTime, utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: The manager (or worker) stopped while the job ran: its events say how far it got.
    INTERRUPTED = "interrupted"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


ACTIVE_STATES = ("queued", "running")


class Job(Timestamped, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # At most one active mutating job per cluster, enforced by the database
        # itself, so two managers (or a manager and a worker) cannot race.
        Index(
            "uq_jobs_one_mutating_per_cluster",
            "cluster",
            unique=True,
            sqlite_where=text("mutating AND state IN ('queued', 'running')"),
            postgresql_where=text("mutating AND state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(64), index=True)
    mutating: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: "embedded" (in the manager process) or "worker" (through the queue).
    runner: Mapped[str] = mapped_column(String(16), default="embedded")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Renewed every few seconds while the job runs: a running job whose heartbeat stopped
    #: belongs to a process that died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The outcome as data (an ApplyReport or a preflight report, as a dict).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class JobEvent(Base):
    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    host: Mapped[str | None] = mapped_column(String(253), nullable=True)
    step: Mapped[str | None] = mapped_column(String(255), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A plan's progress: steps run so far and steps it has (see ``plan.events.Event``).
    done: Mapped[int | None] = mapped_column(Integer, nullable=True)
    planned: Mapped[int | None] = mapped_column(Integer, nullable=True)
