"""The log store in SQLite: a plain table, and an FTS5 index over the messages.

The index holds no copy of the text (external content).  Ingest indexes the
records it inserted in one statement; triggers take out the words of records
deleted (by retention).  A query's words
reach FTS5 only as quoted phrases of letter-and-digit runs, never as its syntax.
Times are kept as microseconds since the epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from clustermgr.logstore import retention
from clustermgr.logstore.base import SqlStore
from clustermgr.logstore.common import Where, row_values, save_resume
from clustermgr.logstore.query import LogQuery, Term
from clustermgr.logstore.records import LogRecord, ResumePoint

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

INSERT = text(
    "INSERT INTO log_records (cluster, at, host, source, level, status, message, fields) "
    "VALUES (:cluster, :at, :host, :source, :level, :status, :message, :fields)"
)

INDEX = text(
    "INSERT INTO log_fts (rowid, message) "
    "SELECT id, message FROM log_records WHERE id BETWEEN :first AND :last"
)


def micros(at: datetime) -> int:
    """``at`` (naive means UTC) as microseconds since the epoch."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // MICROSECOND


def fts_phrase(term: Term) -> str:
    """A term as one FTS5 phrase: its runs in double quotes (they hold no quote)."""
    return '"' + " ".join(term.tokens) + '"'


class SqliteLogStore(SqlStore):
    kind = "sqlite"

    def to_db(self, at: datetime) -> int:
        return micros(at)

    def from_db(self, value: int) -> datetime:
        return EPOCH + value * MICROSECOND

    def text(self, where: Where, query: LogQuery) -> tuple[str, str]:
        excluded = " OR ".join(fts_phrase(t) for t in query.excluded)
        if not query.terms:
            if excluded:
                where.add(
                    "r.id NOT IN (SELECT rowid FROM log_fts WHERE log_fts MATCH :fts_not)",
                    fts_not=excluded,
                )
            return "log_records r", "r.id"
        match = " AND ".join(fts_phrase(t) for t in query.terms)
        if excluded:
            match = f"({match}) NOT ({excluded})"
        # FTS5 drives the read (CROSS JOIN keeps it the outer loop): it gives matches by
        # rowid, newest first without sorting; the other way round, each record read
        # would run the full-text query again.
        where.add("log_fts MATCH :fts", fts=match)
        return "log_fts CROSS JOIN log_records r ON r.id = log_fts.rowid", "log_fts.rowid"

    def bucket(self, where: Where, since: datetime, until: datetime, buckets: int) -> str:
        where.params.update(
            b_since=micros(since), b_n=buckets, b_span=micros(until) - micros(since)
        )
        return "((r.at - :b_since) * :b_n) / :b_span"

    async def ingest(
        self,
        cluster: str,
        host: str,
        source: str,
        records: Sequence[LogRecord],
        resume: ResumePoint,
    ) -> int:
        rows = [{**row_values(cluster, r), "at": micros(r.at)} for r in records]
        async with self.manager.db.session() as session:
            if rows:
                await session.execute(INSERT, rows)
                # The rows just inserted hold consecutive ids (the transaction holds the
                # write lock) ending at the last one.
                last = await session.scalar(text("SELECT last_insert_rowid()"))
                await session.execute(
                    INDEX, {"first": int(last or 0) - len(rows) + 1, "last": last}
                )
            await save_resume(session, cluster, host, source, resume)
        return len(rows)

    async def prune(self, cluster: str, *, max_age: timedelta, max_bytes: int) -> int:
        return await retention.prune_sqlite(
            self.manager, cluster, before=micros(datetime.now(UTC) - max_age), max_bytes=max_bytes
        )
