"""Opening the database: one async engine, sessions, and readiness checks.

The same URL forms work everywhere: ``sqlite:///path`` (the embedded default) and
``postgresql://user:pass@host/db`` (scale-out).  They are mapped to their async
drivers (aiosqlite, psycopg 3) here and nowhere else.

A SQLite database is its owner's alone: its folder is created 0700 and the file
0600 before SQLite opens it (SQLite gives its ``-wal`` and ``-shm`` files the
database file's mode); existing files open to group or others are tightened.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from clustermgr.db import migrations
from clustermgr.db.readcache import DataVersion, ReadCache
from clustermgr.errors import DatabaseError, DatabaseLocked, MigrationsMissing
from clustermgr.settings import make_private

UPGRADE_HINT = "run `clustermgr db upgrade` (back the database up first)"


def async_url(url: str) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise DatabaseError(
        f"unsupported database URL scheme {parsed.drivername!r}",
        hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
    )


def describe_url(url: str) -> str:
    """The URL without its password: safe for messages."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str, *, busy_timeout: float = 5.0) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        connect_args: dict[str, Any] = {}
        version = None
        if self.is_sqlite:
            connect_args["timeout"] = busy_timeout
            if parsed.database and parsed.database != ":memory:":
                _private_sqlite_file(Path(parsed.database))
                version = DataVersion(Path(parsed.database).absolute())
        #: Reads kept until the next commit (SQLite files only).
        self.reads = ReadCache(version)
        self.engine: AsyncEngine = create_async_engine(async_url(url), connect_args=connect_args)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def dispose(self) -> None:
        self.reads.close()
        await self.engine.dispose()

    # --- migrations -------------------------------------------------------

    async def current_revision(self) -> str | None:
        async with translate_errors(self.url), self.engine.connect() as conn:
            return await conn.run_sync(migrations.current_revision)

    async def upgrade(self) -> None:
        async with translate_errors(self.url), self.engine.begin() as conn:
            await conn.run_sync(migrations.upgrade_to_head)

    async def ensure_ready(self, *, create_if_empty: bool = True) -> None:
        """Make sure the schema is the one this code expects.

        An empty database (no tables at all) is created on the spot when
        ``create_if_empty``; a database at an older revision is never upgraded
        behind the user's back: that is an explicit ``clustermgr db upgrade``.
        """
        head = migrations.head_revision()
        current = await self.current_revision()
        if current == head:
            return
        if current is None and create_if_empty and not await self._has_tables():
            await self.upgrade()
            return
        where = describe_url(self.url)
        if current is None:
            message = f"database {where} has no clustermgr schema (missing migrations)"
        else:
            message = f"database {where} is at revision {current}, this version needs {head}"
        raise MigrationsMissing(message, hint=UPGRADE_HINT)

    async def _has_tables(self) -> bool:
        async with self.engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        return bool(names)

    # --- sessions ---------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with translate_errors(self.url), self._sessions() as session, session.begin():
            yield session


#: What SQLite keeps beside a database file.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _private_sqlite_file(path: Path) -> None:
    """Create ``path`` 0600 (in a 0700 folder) unless it exists; tighten it and its companions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # An empty file is an empty database; SQLite copies its mode to the -wal and -shm.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for file in (path, *(path.with_name(path.name + s) for s in SQLITE_COMPANIONS)):
            make_private(file, "database file")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead logging: readers never block the writer, so the web app, the
    # CLI and a job writing events can share the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@asynccontextmanager
async def translate_errors(url: str) -> AsyncIterator[None]:
    """Turn driver errors a user can act on into domain errors."""
    try:
        yield
    except OperationalError as exc:
        text = str(exc.orig)
        where = describe_url(url)
        if "locked" in text:
            raise DatabaseLocked(
                f"database {where} is locked by another process",
                hint="wait for the other clustermgr command to finish, then retry",
            ) from None
        if "no such table" in text:
            raise MigrationsMissing(
                f"database {where} is missing tables: {text}", hint=UPGRADE_HINT
            ) from None
        raise DatabaseError(f"database {where}: {text}") from None
    except ProgrammingError as exc:
        if "does not exist" in str(exc.orig):
            raise MigrationsMissing(
                f"database {describe_url(url)}: {exc.orig}", hint=UPGRADE_HINT
            ) from None
        raise
