"""The monitor's tables: samples, the latest snapshot, alerts, and the watcher's lease.

An alert row is one episode of one problem: opened when a check first finds it,
``last_seen_at`` refreshed while it lasts, ``resolved_at`` set when a check no
longer finds it.  The rows are the event record (open and resolve are the two
events of an episode, each with its time); a problem that comes back opens a
new row.  The database itself keeps at most one open row per (cluster, key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from clustermgr.db.base import Base, UTCDateTime, utcnow


class Sample(Base):
    """One measured value: a probe's time from ``host`` to ``peer``, a pair's lag..."""

    __tablename__ = "monitor_samples"
    __table_args__ = (Index("ix_monitor_samples_cluster_at", "cluster", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    cluster: Mapped[str] = mapped_column(String(64))
    #: "ldap" (later: "cache", "lb").
    component: Mapped[str] = mapped_column(String(16))
    #: "probe_seconds" (host wrote, peer saw it), "lag_seconds" (host behind peer).
    metric: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(253))
    peer: Mapped[str | None] = mapped_column(String(253), nullable=True)
    value: Mapped[float] = mapped_column(Float)


class Snapshot(Base):
    """The latest check cycle's findings per cluster and component (replaced every cycle)."""

    __tablename__ = "monitor_snapshots"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    component: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open episode per problem, enforced by the database itself,
        # so two watchers (should the lease ever fail) cannot open it twice.
        Index(
            "uq_alerts_one_open_per_key",
            "cluster",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alerts_cluster_opened_at", "cluster", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    component: Mapped[str] = mapped_column(String(16))
    #: Stable identity of the problem: ``KIND:SUBJECT`` or ``KIND:SUBJECT<-PEER``, a
    #: subject or peer naming a host or its first label (``node-down:idp2.example.org``,
    #: ``repair:stunnel4:idp2``); the alerts of a host are found by it.
    key: Mapped[str] = mapped_column(String(255))
    #: "critical" or "warning".
    severity: Mapped[str] = mapped_column(String(16))
    #: In words, hostnames only: never a password or a config value.
    message: Mapped[str] = mapped_column(Text)
    #: What the check ran and what it said (a command, its stderr), masked; "" if nothing.
    details: Mapped[str] = mapped_column(Text, default="", server_default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Lease(Base):
    """Who watches what: taken and renewed by a conditional UPDATE, lost when it expires."""

    __tablename__ = "monitor_leases"

    #: e.g. ``ldap:prod``.
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
