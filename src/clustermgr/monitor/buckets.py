"""The bucket of a sample's time, in SQL that both SQLite and PostgreSQL run.

``bucket_of(at, since, step)`` is ``floor((at - since) / step)`` in seconds, for
times at or after ``since``.  The two databases spell it differently (SQLite
stores text and counts in Julian days; PostgreSQL subtracts timestamps into an
interval), so the expression compiles per dialect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from clustermgr.db.base import UTCDateTime

#: Milliseconds in a day (SQLite's ``julianday`` counts days).
DAY_MS = 86_400_000.0


class _Bucket(FunctionElement[int]):
    type = Integer()
    inherit_cache = True
    name = "bucket_of"


def bucket_of(
    at: ColumnElement[datetime] | QueryableAttribute[datetime], since: datetime, step: int
) -> _Bucket:
    """The index of ``at``'s bucket of ``step`` seconds counted from ``since`` (0, 1...)."""
    if step < 1:
        raise ValueError(f"step {step} is not a whole number of seconds >= 1")
    # The step is a checked integer written into the SQL (no parameter type to infer);
    # as a literal column it is part of the statement's cache key.
    return _Bucket(at, literal(since, UTCDateTime()), literal_column(str(int(step)), Integer()))


def _parts(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> tuple[str, str, str]:
    at, since, step = element.clauses.clauses
    return compiler.process(at, **kw), compiler.process(since, **kw), compiler.process(step, **kw)


@compiles(_Bucket, "postgresql")
def _postgresql(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    at, since, step = _parts(element, compiler, **kw)
    offset = f"EXTRACT(EPOCH FROM ({at} - CAST({since} AS TIMESTAMP WITH TIME ZONE)))"
    return f"CAST(FLOOR({offset} / {step}) AS INTEGER)"


@compiles(_Bucket)
def _sqlite(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    at, since, step = _parts(element, compiler, **kw)
    # julianday keeps whole milliseconds: the offset in them is exact once rounded,
    # and integer division is the floor here (only times at or after ``since``).
    millis = f"CAST(ROUND((julianday({at}) - julianday({since})) * {DAY_MS}) AS INTEGER)"
    return f"({millis} / ({step} * 1000))"
