"""The reads both log stores make the same way; each backend gives its own pieces.

A backend says how a time is kept (:meth:`SqlStore.to_db`, :meth:`SqlStore.from_db`),
how the words of a query are searched (:meth:`SqlStore.text`) and how a record's
time falls in a histogram's bucket (:meth:`SqlStore.bucket`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.logstore.common import (
    COLUMNS,
    Where,
    filtered,
    load_resume,
    statement,
    stored,
)
from clustermgr.logstore.query import LogQuery
from clustermgr.logstore.records import ResumePoint, StoredRecord

#: The most records one read gives, and the most buckets in a histogram.
MAX_LIMIT = 5000
MAX_BUCKETS = 1000


class SqlStore:
    kind = ""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    # --- what a backend gives ---------------------------------------------

    def to_db(self, at: datetime) -> Any:
        raise NotImplementedError

    def from_db(self, value: Any) -> datetime:
        raise NotImplementedError

    def text(self, where: Where, query: LogQuery) -> tuple[str, str]:
        """Add the query's word conditions to ``where``; the FROM clause and the column
        that orders by id (``r`` must name log_records)."""
        raise NotImplementedError

    def bucket(self, where: Where, since: datetime, until: datetime, buckets: int) -> str:
        """An SQL expression: the bucket (0 to buckets - 1) of ``r.at``."""
        raise NotImplementedError

    # --- reads ------------------------------------------------------------

    async def resume_points(self, cluster: str, host: str) -> dict[str, ResumePoint]:
        async with self.manager.db.session() as session:
            return await load_resume(session, cluster, host)

    def _where(
        self, cluster: str, query: LogQuery, since: datetime | None, until: datetime | None
    ) -> Where:
        if since is not None and until is not None and until <= since:
            raise InvalidInput("the time range is empty", hint="give a start before the end")
        return filtered(
            cluster,
            query,
            None if since is None else self.to_db(since),
            None if until is None else self.to_db(until),
        )

    async def _records(self, sql: str, params: dict[str, Any]) -> list[StoredRecord]:
        async with self.manager.db.session() as session:
            rows = await session.execute(text(sql), params)
            return [stored(row, self.from_db(row.at)) for row in rows]

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
        where = self._where(cluster, query, since, until)
        source, order = self.text(where, query)
        if before_id is not None:
            where.add(f"{order} < :before_id", before_id=before_id)
        where.params["limit"] = _limit(limit)
        return await self._records(
            statement(COLUMNS, source, where.sql, f"ORDER BY {order} DESC LIMIT :limit"),
            where.params,
        )

    async def after(
        self, cluster: str, query: LogQuery, after_id: int, limit: int = 500
    ) -> list[StoredRecord]:
        where = self._where(cluster, query, None, None)
        source, order = self.text(where, query)
        where.add(f"{order} > :after_id", after_id=after_id, limit=_limit(limit))
        return await self._records(
            statement(COLUMNS, source, where.sql, f"ORDER BY {order} LIMIT :limit"),
            where.params,
        )

    async def count(
        self, cluster: str, query: LogQuery, *, since: datetime | None, until: datetime | None
    ) -> int:
        where = self._where(cluster, query, since, until)
        source, _ = self.text(where, query)
        async with self.manager.db.session() as session:
            found = await session.scalar(
                text(statement("count(*)", source, where.sql)),
                where.params,
            )
        return int(found or 0)

    async def histogram(
        self, cluster: str, query: LogQuery, *, since: datetime, until: datetime, buckets: int
    ) -> list[tuple[datetime, int]]:
        if not 1 <= buckets <= MAX_BUCKETS:
            raise InvalidInput(
                f"{buckets} buckets asked for", hint=f"ask for 1 to {MAX_BUCKETS} buckets"
            )
        where = self._where(cluster, query, since, until)
        source, _ = self.text(where, query)
        expr = self.bucket(where, since, until, buckets)
        async with self.manager.db.session() as session:
            rows = await session.execute(
                text(statement(f"{expr} AS b, count(*) AS n", source, where.sql, "GROUP BY b")),
                where.params,
            )
            counts = {int(b): int(n) for b, n in rows}
        width = (until - since) / buckets
        return [(since + width * i, counts.get(i, 0)) for i in range(buckets)]

    async def context(
        self, cluster: str, record_id: int, *, before: int = 20, after: int = 20
    ) -> list[StoredRecord]:
        params: dict[str, Any] = {"cluster": cluster, "id": record_id}
        async with self.manager.db.session() as session:
            one = (
                await session.execute(
                    text(
                        "SELECT host, at FROM log_records r WHERE cluster = :cluster AND id = :id"
                    ),
                    params,
                )
            ).first()
        if one is None:
            raise NotFound(f"no log record {record_id} in cluster {cluster!r}")
        params.update(host=one.host, at=one.at, before=_limit(before), after=_limit(after) + 1)
        same = "r.cluster = :cluster AND r.host = :host"
        older = await self._records(
            statement(
                COLUMNS,
                "log_records r",
                f"{same} AND (r.at, r.id) < (:at, :id)",
                "ORDER BY r.at DESC, r.id DESC LIMIT :before",
            ),
            params,
        )
        newer = await self._records(
            statement(
                COLUMNS,
                "log_records r",
                f"{same} AND (r.at, r.id) >= (:at, :id)",
                "ORDER BY r.at, r.id LIMIT :after",
            ),
            params,
        )
        return older[::-1] + newer


def _limit(limit: int) -> int:
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"a limit of {limit} records", hint=f"ask for 0 to {MAX_LIMIT}")
    return limit
