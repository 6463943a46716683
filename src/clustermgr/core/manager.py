"""The manager's context: settings, database and vault, opened once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from clustermgr.db.engine import Database
from clustermgr.inventory.store import InventoryStore
from clustermgr.inventory.vault import Vault
from clustermgr.settings import Settings, secure_data_dir


@dataclass
class Manager:
    settings: Settings
    db: Database
    vault: Vault

    @classmethod
    async def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> Manager:
        """Open the database; ``migrate``: check (and create if empty) the schema."""
        settings = settings or Settings()
        secure_data_dir(settings)
        db = Database(settings.effective_database_url, busy_timeout=settings.db_busy_timeout)
        try:
            if migrate:
                await db.ensure_ready()
        except BaseException:
            await db.dispose()
            raise
        return cls(settings, db, Vault(settings.effective_secret_key_file))

    async def close(self) -> None:
        await self.db.dispose()

    @asynccontextmanager
    async def store(self) -> AsyncIterator[InventoryStore]:
        """An inventory store in one transaction."""
        async with self.db.session() as session:
            yield InventoryStore(session, self.vault)
