"""The notification tables: channels, and the outbox of messages to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clustermgr.db.base import Base, UTCDateTime, utcnow


class Channel(Base):
    """Where messages go: an email relay or a webhook, with its filters and its state."""

    __tablename__ = "notify_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: "email" or "webhook".
    kind: Mapped[str] = mapped_column(String(16))
    #: The least severity sent: "info", "warning" or "critical".
    min_severity: Mapped[str] = mapped_column(String(16))
    #: Only this cluster's alerts; None: every cluster's.
    cluster: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The kind's settings, never a secret (``EmailSettings`` or ``WebhookSettings``).
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The sealed secrets (the SMTP password), or None.
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: Set at the first failed delivery, cleared by the next that succeeds.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxRow(Base):
    """One message to send: an alert episode's event for one channel.

    A dispatcher claims a due row by a conditional UPDATE (``claimed_by`` and
    ``claimed_until``), sends it outside any transaction, then sets ``sent_at``
    or moves ``due_at`` on with back-off.  The unique key keeps one row per
    (channel, alert, event).
    """

    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint("channel_id", "alert_id", "event"),
        Index("ix_notify_outbox_pending", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notify_channels.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    #: "opened" or "resolved".
    event: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
