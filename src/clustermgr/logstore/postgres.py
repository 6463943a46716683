"""The log store in PostgreSQL: partitions per cluster and day, a tsvector under GIN.

The table is partitioned by cluster and each cluster's by UTC day; ingest makes a
day's partition when its first record comes (the database function
``log_partition``), and retention drops whole days.  The ``tsv`` column is
generated from the message with every run of other characters than letters and
digits made a space, and a query's terms go through the same expression into
``phraseto_tsquery``: the words are those FTS5 sees in SQLite, and a term like
``10.0.0.5`` is the phrase ``10 0 0 5`` on both.  Terms are bound parameters.
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

INSERT = text(
    "INSERT INTO log_records (cluster, at, host, source, level, status, message, fields) "
    "VALUES (:cluster, :at, :host, :source, :level, :status, :message, CAST(:fields AS jsonb))"
)
PARTITION = text("SELECT log_partition(:cluster, :day)")


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def tsquery(where: Where, name: str, terms: Sequence[Term]) -> str:
    """The terms as tsqueries joined by ``&&`` (each a phrase of its runs), bound as
    parameters ``name0``, ``name1``..."""
    parts = []
    for i, term in enumerate(terms):
        where.params[f"{name}{i}"] = " ".join(term.tokens)
        parts.append(
            f"phraseto_tsquery('simple', regexp_replace(:{name}{i}, '[^[:alnum:]]+', ' ', 'g'))"
        )
    return " && ".join(parts)


class PostgresLogStore(SqlStore):
    kind = "postgresql"

    def to_db(self, at: datetime) -> datetime:
        return utc(at)

    def from_db(self, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def text(self, where: Where, query: LogQuery) -> tuple[str, str]:
        wanted = tsquery(where, "t", query.terms)
        if query.excluded:
            unwanted = "!!(" + tsquery(where, "x", query.excluded).replace(" && ", " || ") + ")"
            wanted = f"{wanted} && {unwanted}" if wanted else unwanted
        if wanted:
            where.add(f"r.tsv @@ ({wanted})")
        return "log_records r", "r.id"

    def bucket(self, where: Where, since: datetime, until: datetime, buckets: int) -> str:
        where.params.update(b_since=utc(since), b_n=buckets, b_span=(until - since).total_seconds())
        return "floor(extract(epoch FROM r.at - :b_since) * :b_n / :b_span)"

    async def ingest(
        self,
        cluster: str,
        host: str,
        source: str,
        records: Sequence[LogRecord],
        resume: ResumePoint,
    ) -> int:
        rows = [{**row_values(cluster, r), "at": utc(r.at)} for r in records]
        async with self.manager.db.session() as session:
            # Cheap when the partition is there (retention may have dropped an old day a
            # late record falls in: it is made again, and goes at the next pruning).
            for day in sorted({row["at"].date() for row in rows}):
                await session.execute(PARTITION, {"cluster": cluster, "day": day})
            if rows:
                await session.execute(INSERT, rows)
            await save_resume(session, cluster, host, source, resume)
        return len(rows)

    async def prune(self, cluster: str, *, max_age: timedelta, max_bytes: int) -> int:
        return await retention.prune_postgres(
            self.manager, cluster, before=datetime.now(UTC) - max_age, max_bytes=max_bytes
        )
