"""Reads kept until the database changes: for pages many clients load at once.

SQLite counts the commits of every connection, this process's and others' (the
CLI, a queue worker, a second manager): ``PRAGMA data_version`` on a connection
that never writes changes after each of them.  A value read while that number was
V is good until the number is no longer V.  Reading it is a few microseconds, on a
connection of its own (stdlib ``sqlite3``, read only, opened on first use).

PostgreSQL has no such number: every read loads (the cache is off).

A value is loaded once however many requests ask at the same moment; it is shared
by every caller, so it must be immutable (frozen views, tuples) or left unchanged.

:class:`KeptByKey` keeps values by key (a session's or a token's digest) the same way,
a bounded number of them: the caller reads the version before its load and keeps
what it loaded with it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class DataVersion:
    """The commit counter of one SQLite database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def current(self) -> int | None:
        """The counter now; None when it cannot be read (the cache then loads)."""
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    f"{self.path.as_uri()}?mode=ro", uri=True, timeout=0.1, check_same_thread=False
                )
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])
        except sqlite3.Error:
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class KeptByKey(Generic[T]):
    """Values by key, each with the data version it was loaded at; at most ``size`` of
    them (the least recently used goes first).  Off (nothing kept) without a version."""

    def __init__(self, version: DataVersion | None, size: int) -> None:
        self.version = version
        self.size = size
        self._values: OrderedDict[str, tuple[int, T]] = OrderedDict()

    def get(self, key: str) -> T | None:
        """``key``'s value while the database is unchanged since it was loaded, else None."""
        kept = self._values.get(key)
        if kept is None:
            return None
        if kept[0] != self.mark():
            del self._values[key]
            return None
        self._values.move_to_end(key)
        return kept[1]

    def mark(self) -> int | None:
        """The version now: read it before loading, and keep what was loaded with it."""
        return self.version.current() if self.version is not None else None

    def keep(self, key: str, at: int | None, value: T) -> None:
        """Keep ``value``, loaded after the version was ``at`` (None: nothing is kept)."""
        if at is None:
            return
        self._values[key] = (at, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def forget(self, key: str) -> None:
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()


class ReadCache:
    """Values by name, each with the data version it was loaded at."""

    def __init__(self, version: DataVersion | None) -> None:
        self.version = version
        self._values: dict[str, tuple[int, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._keyed: dict[str, KeptByKey[Any]] = {}

    def keyed(self, name: str, size: int) -> KeptByKey[Any]:
        """The values kept by key under ``name`` (made on first use, with ``size``)."""
        found = self._keyed.get(name)
        if found is None:
            found = self._keyed[name] = KeptByKey(self.version, size)
        return found

    async def get(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        """``name``'s value: the kept one while the database is unchanged, else ``load()``."""
        if self.version is None:
            return await load()
        found = self._fresh(name)
        if found is not None:
            return cast(T, found[0])
        async with self._locks.setdefault(name, asyncio.Lock()):
            # Another caller may have loaded it while this one waited.
            found = self._fresh(name)
            if found is not None:
                return cast(T, found[0])
            # Read before loading: a commit during the load makes the value stale at once.
            version = self.version.current()
            value = await load()
            if version is not None:
                self._values[name] = (version, value)
            return value

    def _fresh(self, name: str) -> tuple[Any] | None:
        kept = self._values.get(name)
        if kept is None or self.version is None:
            return None
        return (kept[1],) if kept[0] == self.version.current() else None

    def clear(self) -> None:
        self._values.clear()
        for kept in self._keyed.values():
            kept.clear()

    def close(self) -> None:
        self.clear()
        if self.version is not None:
            self.version.close()
