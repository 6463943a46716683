"""The log store as the collector, the API and the CLI see it, whichever database keeps it.

:class:`LogStore` is the interface; :func:`log_store` picks the implementation by
the manager database's dialect: SQLite (:mod:`~clustermgr.logstore.sqlite`,
FTS5) or PostgreSQL (:mod:`~clustermgr.logstore.postgres`, tsvector and
partitions by day).  Both give the same answers to the same queries.

"Newest first" is by id: ids increase in the order records are stored, which is
the order they were read on the servers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from clustermgr.core.manager import Manager
from clustermgr.logstore.query import LogQuery
from clustermgr.logstore.records import LogRecord, ResumePoint, StoredRecord


class LogStore(Protocol):
    #: "sqlite" or "postgresql".
    kind: str

    async def ingest(
        self,
        cluster: str,
        host: str,
        source: str,
        records: Sequence[LogRecord],
        resume: ResumePoint,
    ) -> int:
        """Store ``records`` and the source's resume point in ONE transaction; how many."""
        ...

    async def resume_points(self, cluster: str, host: str) -> dict[str, ResumePoint]:
        """Where each of ``host``'s sources goes on from (by source id)."""
        ...

    async def search(
        self,
        cluster: str,
        query: LogQuery,
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[StoredRecord]:
        """The records matching ``query`` in ``[since, until)``, newest first;
        ``before_id`` pages back (records older than that one)."""
        ...

    async def count(
        self, cluster: str, query: LogQuery, *, since: datetime | None, until: datetime | None
    ) -> int: ...

    async def histogram(
        self, cluster: str, query: LogQuery, *, since: datetime, until: datetime, buckets: int
    ) -> list[tuple[datetime, int]]:
        """How many records match in each of ``buckets`` equal spans of ``[since, until)``:
        (the span's start, count), every span listed, oldest first."""
        ...

    async def context(
        self, cluster: str, record_id: int, *, before: int = 20, after: int = 20
    ) -> list[StoredRecord]:
        """The records around one on the same host, by time then id (oldest first)."""
        ...

    async def after(
        self, cluster: str, query: LogQuery, after_id: int, limit: int = 500
    ) -> list[StoredRecord]:
        """Records newer than ``after_id`` matching the query, oldest first (the live tail)."""
        ...

    async def prune(self, cluster: str, *, max_age: timedelta, max_bytes: int) -> int:
        """Drop ``cluster``'s records older than ``max_age``, then its oldest ones while it
        keeps more than ``max_bytes``; how many went."""
        ...


def log_store(manager: Manager) -> LogStore:
    """The store in ``manager``'s database."""
    if manager.db.is_sqlite:
        from clustermgr.logstore.sqlite import SqliteLogStore

        return SqliteLogStore(manager)
    from clustermgr.logstore.postgres import PostgresLogStore

    return PostgresLogStore(manager)
