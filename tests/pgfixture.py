"""PostgreSQL for tests: the URL scripts/postgres.sh prepared, and a clean schema."""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from clustermgr.db.engine import async_url

PG_URL = os.environ.get("CLUSTERMGR_TEST_PG_URL")
NO_PG = "CLUSTERMGR_TEST_PG_URL is not set (scripts/postgres.sh sets it up)"


async def reset_postgres(url: str) -> None:
    """Drop every table: each test starts from an empty database."""
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
