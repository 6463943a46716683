"""Opening, creating and refusing databases: what the user sees when it goes wrong."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from clustermgr.core.manager import Manager
from clustermgr.db import migrations
from clustermgr.db.engine import Database
from clustermgr.db.migrations import head_revision
from clustermgr.errors import DatabaseError, DatabaseLocked, MigrationsMissing
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.settings import Settings


async def test_empty_database_is_created_at_head(settings: Settings) -> None:
    manager = await Manager.open(settings)
    try:
        assert await manager.db.current_revision() == head_revision()
        async with manager.store() as store:
            await store.create_cluster("c1", ClusterSettings())
        async with manager.store() as store:
            assert [c.name for c in await store.clusters()] == ["c1"]
    finally:
        await manager.close()


async def test_database_with_tables_but_no_migrations_is_refused(settings: Settings) -> None:
    db = Database(settings.effective_database_url)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE something_else (id INTEGER PRIMARY KEY)"))
    await db.dispose()
    with pytest.raises(MigrationsMissing) as caught:
        await Manager.open(settings)
    assert "has no clustermgr schema" in caught.value.message
    assert caught.value.hint and "clustermgr db upgrade" in caught.value.hint


async def test_database_at_an_unknown_revision_is_refused(settings: Settings) -> None:
    manager = await Manager.open(settings)
    async with manager.db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    await manager.close()
    with pytest.raises(MigrationsMissing) as caught:
        await Manager.open(settings)
    assert f"is at revision 0000, this version needs {head_revision()}" in caught.value.message


async def test_unreachable_postgres_is_reported_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://clustermgr:S3cretDbPassw0rd@127.0.0.1:1/none"
    with pytest.raises(DatabaseError) as caught:
        await Manager.open(Settings(database_url=url, data_dir=tmp_path))
    assert "postgresql://clustermgr:***@127.0.0.1:1/none" in caught.value.message
    assert "S3cretDbPassw0rd" not in str(caught.value)


async def test_locked_sqlite_database_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{path}", db_busy_timeout=0.2)
    manager = await Manager.open(settings)
    async with manager.store() as store:
        await store.create_cluster("kept", ClusterSettings())
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked) as caught:
            async with manager.store() as store:
                await store.create_cluster("blocked", ClusterSettings())
        assert "is locked by another process" in caught.value.message
        assert caught.value.hint and "retry" in caught.value.hint
    finally:
        blocker.rollback()
        blocker.close()
    async with manager.store() as store:
        assert [c.name for c in await store.clusters()] == ["kept"]
    await manager.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_sqlite_files_and_the_data_folder_are_the_owners_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        settings = Settings(data_dir=tmp_path / "data")
        manager = await Manager.open(settings)
        try:
            async with manager.store() as store:
                await store.create_cluster("c1", ClusterSettings())
            files = sorted(settings.data_dir.glob("clustermgr.db*"))
            assert {f.name for f in files} >= {"clustermgr.db", "clustermgr.db-wal"}
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
            assert mode(settings.data_dir) == 0o700
        finally:
            await manager.close()
    finally:
        os.umask(old)


async def test_an_open_data_folder_and_database_are_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    manager = await Manager.open(settings)
    await manager.close()
    database = settings.data_dir / "clustermgr.db"
    settings.data_dir.chmod(0o755)
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        manager = await Manager.open(settings)
    await manager.close()
    assert mode(settings.data_dir) == 0o700 and mode(database) == 0o600
    warned = [r.getMessage() for r in caplog.records]
    assert f"data folder {settings.data_dir} was open to group or others (mode 0755): now 0700" in (
        warned
    )
    assert f"database file {database} was open to group or others (mode 0644): now 0600" in warned


def test_the_head_revision_is_alembics() -> None:
    """The head read from the revision files is the one Alembic computes from them."""
    scripts = ScriptDirectory.from_config(migrations.config())
    assert head_revision() == scripts.get_current_head()


async def test_the_current_revision_is_alembics(manager: Manager) -> None:
    def both(connection: Connection) -> tuple[str | None, str | None]:
        alembics = MigrationContext.configure(connection).get_current_revision()
        return migrations.current_revision(connection), alembics

    async with manager.db.engine.connect() as conn:
        ours, alembics = await conn.run_sync(both)
    assert ours == alembics == head_revision()
    async with manager.db.engine.begin() as conn:
        await conn.execute(text(f"DELETE FROM {migrations.VERSION_TABLE}"))
    async with manager.db.engine.connect() as conn:
        assert await conn.run_sync(both) == (None, None)


async def test_a_database_at_several_revisions_is_refused(manager: Manager) -> None:
    async with manager.db.engine.begin() as conn:
        await conn.execute(text(f"INSERT INTO {migrations.VERSION_TABLE} VALUES ('0000')"))
    with pytest.raises(DatabaseError, match="several revisions"):
        await manager.db.current_revision()
