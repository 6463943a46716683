"""Reading a cluster's stored logs as every front shows them: the API, the CLI, the GUI.

A reader names a query (:mod:`clustermgr.logstore.query`'s language) and a time
range; :func:`window` checks both, so every front refuses the same input with the
same words.  The reads look the cluster up first: an unknown one is
:class:`~clustermgr.errors.NotFound`, whatever the store holds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.logstore.query import LogQuery, parse_query, tokens
from clustermgr.logstore.records import StoredRecord
from clustermgr.logstore.store import log_store

#: The range read when none is named.
DEFAULT_SPAN = timedelta(hours=1)
#: The longest range one read covers.
LONGEST = timedelta(days=10 * 366)
#: The most records one page holds, and the most lines of context either side.
MAX_PAGE = 1000
MAX_CONTEXT = 500
#: Seconds between two reads of the live tail, and the most records one read gives.
TAIL_POLL = 0.5
TAIL_BATCH = 500

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d{1,9})([smhdw])")
_TOKEN = re.compile(r"[^\W_]+")
_TIME_HINT = "a duration back from the end (15m, 1h, 24h, 7d) or an ISO time (2026-12-06T10:00Z)"


@dataclass(frozen=True)
class LogWindow:
    """What a reader asks for: the parsed query and the range ``[since, until)`` (UTC)."""

    query: LogQuery
    since: datetime
    until: datetime


@dataclass(frozen=True)
class SearchPage:
    """One page of hits, newest first, and what shows it."""

    hits: list[StoredRecord]
    #: How many records match in the whole range (every page).
    total: int
    #: The words and phrases to highlight, as typed.
    terms: list[str]
    #: The ``before_id`` that reads the next (older) page; None on the last one.
    before_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "hits": [as_dict(r) for r in self.hits],
            "total": self.total,
            "terms": self.terms,
            "next": self.before_id,
        }


def as_dict(found: StoredRecord) -> dict[str, Any]:
    """A stored record for JSON, as the API gives it: ``{"id", "at" (ISO, UTC:
    ``...Z``), "host", "source", "level", "message", "fields"}``."""
    record = found.record
    return {
        "id": found.id,
        "at": record.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "host": record.host,
        "source": record.source,
        "level": record.level,
        "message": record.message,
        "fields": dict(record.fields),
    }


def _moment(text: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}", hint=_TIME_HINT) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def window(q: str | None, since: str | None, until: str | None, *, now: datetime) -> LogWindow:
    """The query and range a reader named: ``since`` a duration back from the end
    (``15m``, ``1h``, ``7d``) or an ISO time, default one hour; ``until`` an ISO time,
    default ``now``.  A time without a zone is UTC.  InvalidInput for a query the
    language cannot read, a time that is neither, or an empty or too long range."""
    query = parse_query(q or "")
    end = _moment(until, "until") if until else now
    start = end - DEFAULT_SPAN
    if since:
        found = _DURATION.fullmatch(since.strip())
        if found is not None:
            back = timedelta(seconds=int(found[1]) * _UNITS[found[2]])
            if back > LONGEST:
                raise InvalidInput("the time range is too long", hint="ask for ten years at most")
            start = end - back
        else:
            start = _moment(since, "since")
    if end <= start:
        raise InvalidInput(
            "the time range is empty: since must be before until",
            hint=f"since is {_TIME_HINT}",
        )
    if end - start > LONGEST:
        raise InvalidInput("the time range is too long", hint="ask for ten years at most")
    return LogWindow(query, start.astimezone(UTC), end.astimezone(UTC))


def _check(value: int, name: str, top: int, least: int = 1) -> int:
    if not least <= value <= top:
        raise InvalidInput(f"invalid {name} {value}", hint=f"give {least} to {top}")
    return value


async def search(
    manager: Manager,
    cluster: str,
    window: LogWindow,
    *,
    limit: int = 100,
    before_id: int | None = None,
) -> SearchPage:
    """The newest ``limit`` hits of the window (older than ``before_id`` when given), how
    many match in all, and where the next page starts."""
    _check(limit, "limit", MAX_PAGE)
    await get_cluster(manager, cluster)
    store = log_store(manager)
    span = {"since": window.since, "until": window.until}
    hits = await store.search(cluster, window.query, limit=limit + 1, before_id=before_id, **span)
    total = await store.count(cluster, window.query, **span)
    more = len(hits) > limit
    hits = hits[:limit]
    return SearchPage(
        hits=hits,
        total=total,
        terms=window.query.highlight_terms(),
        before_id=hits[-1].id if more else None,
    )


async def histogram(
    manager: Manager, cluster: str, window: LogWindow, *, buckets: int = 60
) -> list[tuple[datetime, int]]:
    """How many records match in each of ``buckets`` equal spans of the window: (the
    span's start, count), oldest first, every span listed."""
    await get_cluster(manager, cluster)
    return await log_store(manager).histogram(
        cluster, window.query, since=window.since, until=window.until, buckets=buckets
    )


async def context(
    manager: Manager, cluster: str, record_id: int, *, lines: int = 20
) -> list[StoredRecord]:
    """The record ``record_id`` and up to ``lines`` records either side of it on its host,
    oldest first; NotFound for an id the cluster does not hold."""
    _check(lines, "lines", MAX_CONTEXT, least=0)
    await get_cluster(manager, cluster)
    return await log_store(manager).context(cluster, record_id, before=lines, after=lines)


async def newest_id(manager: Manager, cluster: str) -> int:
    """The id of the cluster's newest stored record; 0 when it has none."""
    newest = await log_store(manager).search(cluster, LogQuery(), since=None, until=None, limit=1)
    return newest[0].id if newest else 0


async def tail(
    manager: Manager,
    cluster: str,
    query: str | LogQuery,
    *,
    after_id: int | None = None,
    poll: float = TAIL_POLL,
) -> AsyncGenerator[list[StoredRecord], None]:
    """The records stored from now on that match ``query``, oldest first, read every
    ``poll`` seconds: each read's records as one list, an EMPTY list when nothing came
    (a reader can then send a keep-alive or notice its client left).  It starts after
    ``after_id``, or after the newest stored record when None.

    The cluster and the query are checked here, before the first read: an unknown
    cluster is NotFound, a bad query InvalidInput."""
    parsed = parse_query(query) if isinstance(query, str) else query
    await get_cluster(manager, cluster)
    start = await newest_id(manager, cluster) if after_id is None else after_id
    return _follow(manager, cluster, parsed, start, poll)


async def _follow(
    manager: Manager, cluster: str, query: LogQuery, after_id: int, poll: float
) -> AsyncGenerator[list[StoredRecord], None]:
    store = log_store(manager)
    while True:
        found = await store.after(cluster, query, after_id, TAIL_BATCH)
        if found:
            after_id = found[-1].id
        yield found
        if len(found) < TAIL_BATCH:
            await asyncio.sleep(poll)


def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` cut into segments, True for a hit of one of ``terms``: a term matches
    where its letter-and-digit runs follow one another in the text, case left aside
    (as a search finds it); a phrase's hit runs from its first run to its last."""
    runs = [(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text)]
    words = [w for _, _, w in runs]
    spans: list[tuple[int, int]] = []
    for term in terms:
        wanted = list(tokens(term))
        if not wanted:
            continue
        n = len(wanted)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == wanted:
                spans.append((runs[i][0], runs[i + n - 1][1]))
    segments: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        if start > at:
            segments.append((text[at:start], False))
        if segments and segments[-1][1] and start == at:
            segments[-1] = (segments[-1][0] + text[start:end], True)
        else:
            segments.append((text[start:end], True))
        at = end
    if at < len(text) or not segments:
        segments.append((text[at:], False))
    return segments
