"""Database fixtures: every test here runs on SQLite and on PostgreSQL.

PostgreSQL comes from scripts/postgres.sh (CI runs it); the URL is passed in
CLUSTERMGR_TEST_PG_URL.  Without it the PostgreSQL variants are skipped and say so.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from clustermgr.db.engine import async_url
from clustermgr.services.context import Manager
from clustermgr.settings import Settings

PG_URL = os.environ.get("CLUSTERMGR_TEST_PG_URL")


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
        return
    if not PG_URL:
        pytest.skip("CLUSTERMGR_TEST_PG_URL is not set (scripts/postgres.sh sets it up)")
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
