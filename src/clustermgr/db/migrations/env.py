"""Alembic environment: runs on the connection clustermgr hands over."""

from __future__ import annotations

from alembic import context

import clustermgr.audit.models
import clustermgr.auth.models
import clustermgr.components.metrics.rulemodels
import clustermgr.inventory.models
import clustermgr.jobs.models
import clustermgr.monitor.models
import clustermgr.monitor.series.models
import clustermgr.notify.models  # noqa: F401  (each registers its tables)
from clustermgr.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `clustermgr db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
