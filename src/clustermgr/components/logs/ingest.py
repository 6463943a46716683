"""What one line of the follower's output means to the store (pure).

A ``batch`` line becomes a :class:`Batch`: its records parsed
(:func:`~clustermgr.components.logs.parse.parse`, stamps without a zone in the
server's ``tz``) with the secrets the manager holds masked (:func:`clustermgr.redact.redact`),
and the resume point after them, which the store keeps in the same transaction.  A
batch without records (a rotation moved the resume point) is a batch too.  A
``state`` line becomes a :class:`SourceState`, a ``beat`` nothing but a sign of life.
A line that is none of these (not JSON, an unknown source) is a :class:`BadLine`:
the follower is not the one this manager ships.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from clustermgr.components.logs.parse import parse
from clustermgr.components.logs.sources import Source
from clustermgr.logstore.records import FieldValue, LogRecord, ResumePoint
from clustermgr.redact import redact

#: A source's state as the follower says it (only when it changes).
OK = "ok"


@dataclass(frozen=True)
class Batch:
    """Records of one source and where the source goes on after them."""

    source: str
    records: tuple[LogRecord, ...]
    resume: ResumePoint


@dataclass(frozen=True)
class SourceState:
    source: str
    #: ``ok``, ``missing``, ``denied`` or ``error``.
    state: str
    detail: str


@dataclass(frozen=True)
class Beat:
    pass


class BadLine(ValueError):
    """A line of the follower's output that the protocol has no place for."""


def read_line(
    line: bytes, sources: Mapping[str, Source], host: str, tz: tzinfo, read_at: datetime
) -> Batch | SourceState | Beat:
    """What the follower's output ``line`` says (BadLine when it says nothing known)."""
    try:
        message = json.loads(line)
    except ValueError:
        raise BadLine(f"not JSON: {line[:80]!r}") from None
    if not isinstance(message, dict):
        raise BadLine(f"not an object: {line[:80]!r}")
    kind = message.get("t")
    if kind == "beat":
        return Beat()
    source = sources.get(str(message.get("src")))
    if source is None:
        raise BadLine(f"a {kind!r} of an unknown source {message.get('src')!r}")
    if kind == "state":
        return SourceState(
            source.id, str(message.get("state")), redact(str(message.get("detail") or ""))
        )
    if kind == "batch":
        return _batch(message, source, host, tz, read_at)
    raise BadLine(f"an unknown message {kind!r}")


def _batch(
    message: dict[str, Any], source: Source, host: str, tz: tzinfo, read_at: datetime
) -> Batch:
    texts = message.get("recs")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise BadLine(f"a batch of {source.id} without its records")
    if source.journal:
        cursor = message.get("cursor")
        if not isinstance(cursor, str):
            raise BadLine(f"a journal batch of {source.id} without its cursor")
        resume = ResumePoint(cursor=cursor)
    else:
        inode, end = message.get("inode"), message.get("end")
        if not isinstance(inode, int) or not isinstance(end, int):
            raise BadLine(f"a batch of {source.id} without its inode and offset")
        resume = ResumePoint(inode=inode, offset=end, fingerprint=str(message.get("fingerprint")))
    records = tuple(masked(parse(source, host, t, read_at, tz=tz)) for t in texts)
    return Batch(source.id, records, resume)


def masked(record: LogRecord) -> LogRecord:
    """``record`` with the secrets the manager holds masked in its message and fields."""
    fields: dict[str, FieldValue] = {
        k: redact(v) if isinstance(v, str) else v for k, v in record.fields.items()
    }
    return replace(record, message=redact(record.message), fields=fields)


def follower_resume(point: ResumePoint | None) -> dict[str, object] | None:
    """A stored resume point as the follower's configuration names it."""
    if point is None:
        return None
    if point.cursor is not None:
        return {"cursor": point.cursor}
    if point.inode is None:
        return None
    return {"inode": point.inode, "offset": point.offset, "fingerprint": point.fingerprint}
