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


async def test_values_kept_by_key_go_at_any_commit_and_past_their_number(
    manager: Manager,
) -> None:
    kept = manager.db.reads.keyed("test", size=2)
    at = kept.mark()
    for key in ("a", "b", "c"):
        kept.keep(key, at, key.upper())
    if not manager.db.is_sqlite:
        assert kept.get("c") is None, "PostgreSQL keeps nothing"
        return
    # The oldest of three went; the others stay while nothing changes.
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (None, "B", "C")
    await clusters.create_cluster(manager, "changed")
    assert kept.get("b") is None and kept.get("c") is None
    # What was loaded before a commit is stale at once.
    kept.keep("d", at, "D")
    assert kept.get("d") is None
