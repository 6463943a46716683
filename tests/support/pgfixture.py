"""PostgreSQL for tests: a database of this test session's own, and a clean schema.

scripts/postgres.sh prepares a database and gives its URL.  Each test session
(each holds a lab slot, see labfixture) works in its own database next to it,
``<name>_<slot>``, created on first use: two sessions on one machine must not
drop each other's tables.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from clustermgr.db.engine import async_url
from labfixture import SLOT

NO_PG = "CLUSTERMGR_TEST_PG_URL is not set (scripts/postgres.sh sets it up)"


def _own_database(url: str) -> str:
    """The URL of this session's database, created when missing."""
    parsed = make_url(url)
    name = f"{parsed.database}_{SLOT.number}"
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return parsed.set(database=name).render_as_string(hide_password=False)


_given = os.environ.get("CLUSTERMGR_TEST_PG_URL")
PG_URL = _own_database(_given) if _given else None


async def reset_postgres(url: str) -> None:
    """Drop every table: each test starts from an empty database."""
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
