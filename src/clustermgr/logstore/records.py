"""What one log record is, from the follower on a server to the store and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: The levels a record may carry, least severe first (syslog's names, shortened).
LEVELS: tuple[str, ...] = ("debug", "info", "notice", "warning", "error", "critical")

#: A field parsed out of a record: NGINX's ``status``, ``method``, ``path``, ``bytes``,
#: ``request_time``, ``client``; slapd's ``conn`` and ``op``.
FieldValue = str | int | float


@dataclass(frozen=True)
class LogRecord:
    """One record as parsed on ingest: a line, or a line and its continuation lines."""

    #: The record's own time (UTC, aware), or when it was read when it carries none.
    at: datetime
    host: str
    #: The source's id in the sources list (``syslog``, ``nginx-access``, ``slapd``...).
    source: str
    #: One of :data:`LEVELS`, or None when the line says none.
    level: str | None
    #: The whole record, lines joined by ``\n``, with the manager's secrets masked.
    message: str
    fields: Mapping[str, FieldValue] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredRecord:
    """A record as the store gives it back: with its id (increasing in ingest order)."""

    id: int
    record: LogRecord


@dataclass(frozen=True)
class ResumePoint:
    """Where a source's follower goes on from: the store keeps one per cluster, host and
    source, written in the same transaction as the records read before it."""

    #: A file's inode and the byte offset after the last stored record.
    inode: int | None = None
    offset: int = 0
    #: Hex of up to 64 bytes before ``offset``: finds a copy made by copytruncate.
    fingerprint: str = ""
    #: The journal's cursor after the last stored entry (journal sources).
    cursor: str | None = None
