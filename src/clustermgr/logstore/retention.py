"""Keeping a cluster's logs within an age and a size.

SQLite deletes the oldest records (the triggers take their words out of the
index), by age and then while the cluster's records hold more than the size.
PostgreSQL drops whole day partitions of the cluster: those entirely older than
the age, then the oldest while the cluster's partitions take more than the size
(the newest day is always kept).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from clustermgr.core.manager import Manager
from clustermgr.logstore.common import statement

#: What a record costs beyond its message and fields, in bytes (row and indexes).
ROW_OVERHEAD = 100
#: How many of the oldest records one step of size pruning looks at.
STEP = 5000

#: A day partition's name (the store makes them): one cluster's records of one day.
PARTITION = re.compile(r"log_records_[0-9a-f]{12}_(\d{8})")


async def prune_sqlite(manager: Manager, cluster: str, *, before: int, max_bytes: int) -> int:
    """Delete ``cluster``'s records older than ``before`` (microseconds), then its oldest
    while its records take more than ``max_bytes``; how many."""
    params = {"cluster": cluster, "before": before, "over": ROW_OVERHEAD}
    size = "length(CAST(message AS BLOB)) + length(fields) + :over"
    async with manager.db.session() as session:
        gone = await session.execute(
            text("DELETE FROM log_records WHERE cluster = :cluster AND at < :before"), params
        )
        removed = int(gone.rowcount or 0)  # type: ignore[attr-defined]
        total = await session.scalar(
            text(statement(f"coalesce(sum({size}), 0)", "log_records", "cluster = :cluster")),
            params,
        )
        excess = int(total or 0) - max_bytes
        last = 0
        while excess > 0:
            rows = (
                await session.execute(
                    text(
                        statement(
                            f"id, {size} AS n",
                            "log_records",
                            "cluster = :cluster AND id > :last",
                            "ORDER BY id LIMIT :step",
                        )
                    ),
                    {**params, "last": last, "step": STEP},
                )
            ).all()
            if not rows:
                break
            for row in rows:
                last, excess = row.id, excess - row.n
                if excess <= 0:
                    break
        if last:
            gone = await session.execute(
                text("DELETE FROM log_records WHERE cluster = :cluster AND id <= :last"),
                {"cluster": cluster, "last": last},
            )
            removed += int(gone.rowcount or 0)  # type: ignore[attr-defined]
    return removed


async def prune_postgres(
    manager: Manager, cluster: str, *, before: datetime, max_bytes: int
) -> int:
    """Drop ``cluster``'s day partitions that end before ``before``, then its oldest while
    they take more than ``max_bytes`` (keeping the newest); how many records went."""
    async with manager.db.session() as session:
        rows = await session.execute(
            text(
                "SELECT c.relname AS name, pg_total_relation_size(c.oid) AS size "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE p.relname = 'log_records_' || left(md5(:cluster), 12)"
            ),
            {"cluster": cluster},
        )
        days = sorted(
            (_day(m.group(1)), r.name, int(r.size))
            for r in rows
            if (m := PARTITION.fullmatch(r.name)) is not None
        )
        total = sum(size for _, _, size in days)
        doomed = []
        for i, (day, name, size) in enumerate(days):
            old = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) <= before
            big = total > max_bytes and i < len(days) - 1
            if not (old or big):
                break
            doomed.append(name)
            total -= size
        removed = 0
        for name in doomed:
            # ``name`` is a partition's, read from the catalog and matching PARTITION.
            removed += int(
                await session.scalar(text(statement("count(*)", f'"{name}"', "true"))) or 0
            )
            await session.execute(text(f'DROP TABLE "{name}"'))
    return removed


def _day(digits: str) -> date:
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
