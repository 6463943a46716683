"""Database fixtures: every test here runs on SQLite and on PostgreSQL.

PostgreSQL comes from scripts/postgres.sh (CI runs it); the URL is passed in
CLUSTERMGR_TEST_PG_URL.  Without it the PostgreSQL variants are skipped and say so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clustermgr.core.manager import Manager
from clustermgr.settings import Settings
from pgfixture import NO_PG, PG_URL, reset_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
        return
    if not PG_URL:
        pytest.skip(NO_PG)
    await reset_postgres(PG_URL)
    yield PG_URL


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, db_busy_timeout=0.3)


@pytest.fixture
async def manager(settings: Settings) -> AsyncIterator[Manager]:
    opened = await Manager.open(settings)
    yield opened
    await opened.close()
