"""The table of a cluster's threshold rules that differ from the defaults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clustermgr.db.base import Base, UTCDateTime, utcnow


class MetricRule(Base):
    """One rule of one cluster, whole: a changed default (same id) or a rule of its own.

    A cluster without rows has the defaults; deleting a row resets that rule."""

    __tablename__ = "metric_rules"
    __table_args__ = (UniqueConstraint("cluster_id", "rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(40))
    #: The rule's fields as :class:`~clustermgr.components.metrics.rules.Rule` dumps them.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))
