"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import clustermgr.audit.models
import clustermgr.auth.models
import clustermgr.components.metrics.rulemodels
import clustermgr.inventory.models
import clustermgr.jobs.models
import clustermgr.monitor.models
import clustermgr.monitor.series.models
import clustermgr.notify.models  # noqa: F401  (register their tables)
from clustermgr.core.manager import Manager
from clustermgr.db.base import Base
from clustermgr.logstore.tables import kept_outside_models


async def test_models_and_migrations_agree(manager: Manager) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"include_name": kept_outside_models})
        return list(compare_metadata(context, Base.metadata))

    async with manager.db.engine.connect() as conn:
        diff = await conn.run_sync(differences)
    assert diff == [], "a model changed without a migration (or the other way round)"
