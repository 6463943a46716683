"""Reads kept until the database changes: any commit, from this manager or another
process's, makes the next read load again; PostgreSQL loads every time."""

from __future__ import annotations

import asyncio

from clustermgr.core.manager import Manager
from clustermgr.services import clusters, servers


async def test_a_read_is_kept_until_any_commit(manager: Manager) -> None:
    loads = 0

    async def names() -> list[str]:
        nonlocal loads
        loads += 1
        return [c.name for c in await servers.list_clusters(manager)]

    reads = manager.db.reads
    assert await reads.get("names", names) == []
    # Many callers at once: one load.
    assert await asyncio.gather(*(reads.get("names", names) for _ in range(10))) == [[]] * 10
    expected = 1 if manager.db.is_sqlite else 11
    assert loads == expected

    await clusters.create_cluster(manager, "mine")
    assert await reads.get("names", names) == ["mine"]

    # A commit of another process (another manager on the same database).
    other = await Manager.open(manager.settings)
    try:
        await clusters.create_cluster(other, "theirs")
    finally:
        await other.close()
    assert await reads.get("names", names) == ["mine", "theirs"]
    assert await reads.get("names", names) == ["mine", "theirs"]
    assert loads == expected + (2 if manager.db.is_sqlite else 3)
