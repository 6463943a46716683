"""What both log stores share: the filters' SQL, resume points, and rows to records.

Every value a user gave reaches the database as a bound parameter; the SQL text
here is built only from fixed fragments and parameter names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.logstore.query import LogQuery
from clustermgr.logstore.records import FieldValue, LogRecord, ResumePoint, StoredRecord

#: The record columns every read selects, in this order (``r`` is log_records).
COLUMNS = "r.id, r.at, r.host, r.source, r.level, r.message, r.fields"


def statement(what: str, source: str, where: str, tail: str = "") -> str:
    """``SELECT what FROM source WHERE where tail``: every piece is this package's own
    fixed SQL (columns, tables, conditions with named parameters), never a value."""
    return f"SELECT {what} FROM {source} WHERE {where} {tail}"  # noqa: S608


class Where:
    """Conditions joined by AND, with their parameters."""

    def __init__(self, cluster: str) -> None:
        self.parts: list[str] = ["r.cluster = :cluster"]
        self.params: dict[str, Any] = {"cluster": cluster}

    def add(self, sql: str, **params: Any) -> None:
        self.parts.append(sql)
        self.params.update(params)

    def any_of(self, column: str, values: Sequence[Any]) -> None:
        names = [f"{column}_{i}" for i in range(len(values))]
        self.add(
            f"r.{column} IN ({', '.join(':' + n for n in names)})",
            **dict(zip(names, values, strict=True)),
        )

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts)


def filtered(cluster: str, query: LogQuery, since: object, until: object) -> Where:
    """The conditions of ``query``'s filters and the time range (``at`` values already in
    the backend's form; None: open)."""
    where = Where(cluster)
    for column, values in (
        ("host", query.hosts),
        ("source", query.sources),
        ("level", query.levels),
    ):
        if values:
            where.any_of(column, sorted(values))
    if query.statuses:
        ranges = []
        for i, (low, high) in enumerate(query.statuses):
            ranges.append(f"r.status BETWEEN :st_lo{i} AND :st_hi{i}")
            where.params.update({f"st_lo{i}": low, f"st_hi{i}": high})
        where.add("(" + " OR ".join(ranges) + ")")
    if since is not None:
        where.add("r.at >= :since", since=since)
    if until is not None:
        where.add("r.at < :until", until=until)
    return where


def status_of(fields: Mapping[str, FieldValue]) -> int | None:
    """The HTTP status a record's fields carry, as a number (None: none)."""
    value = fields.get("status")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def row_values(cluster: str, record: LogRecord) -> dict[str, Any]:
    """A record as the parameters of one inserted row (``at`` left for the backend)."""
    return {
        "cluster": cluster,
        "host": record.host,
        "source": record.source,
        "level": record.level,
        "status": status_of(record.fields),
        "message": record.message,
        "fields": json.dumps(dict(record.fields)),
    }


def stored(row: Any, at: Any) -> StoredRecord:
    """A selected row (:data:`COLUMNS`) as a record; ``at`` already a datetime."""
    fields = row.fields if isinstance(row.fields, dict) else json.loads(row.fields)
    return StoredRecord(row.id, LogRecord(at, row.host, row.source, row.level, row.message, fields))


UPSERT_RESUME = text(
    "INSERT INTO log_resume (cluster, host, source, inode, file_offset, fingerprint, "
    "journal_cursor) VALUES (:cluster, :host, :source, :inode, :offset, :fingerprint, "
    ":cursor) ON CONFLICT (cluster, host, source) DO UPDATE SET inode = excluded.inode, "
    "file_offset = excluded.file_offset, fingerprint = excluded.fingerprint, "
    "journal_cursor = excluded.journal_cursor"
)


async def save_resume(
    session: AsyncSession, cluster: str, host: str, source: str, resume: ResumePoint
) -> None:
    await session.execute(
        UPSERT_RESUME,
        {
            "cluster": cluster,
            "host": host,
            "source": source,
            "inode": resume.inode,
            "offset": resume.offset,
            "fingerprint": resume.fingerprint,
            "cursor": resume.cursor,
        },
    )


async def load_resume(session: AsyncSession, cluster: str, host: str) -> dict[str, ResumePoint]:
    rows = await session.execute(
        text(
            "SELECT source, inode, file_offset, fingerprint, journal_cursor FROM log_resume "
            "WHERE cluster = :cluster AND host = :host"
        ),
        {"cluster": cluster, "host": host},
    )
    return {
        r.source: ResumePoint(r.inode, r.file_offset, r.fingerprint, r.journal_cursor) for r in rows
    }
