"""The live tail as Server-Sent Events: one formatter for the API's stream and the GUI's.

The stream opens with a ``ready`` message naming the id it follows from (so a
page paused before any record came resumes from there).  Each record stored after
the start is a ``record`` message (the record as JSON, the API's shape unless the
caller gives its own; its id as the SSE ``id``, so a client that reconnects with
``Last-Event-ID`` goes on after the last record it got); a comment line goes out after
:data:`~clustermgr.web.sse.KEEP_ALIVE` seconds without one.  The stream counts
among the user's streams (:data:`~clustermgr.web.sse.STREAMS`), and ends when
the client goes away.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from fastapi import Request

from clustermgr.components.logs import read
from clustermgr.core.manager import Manager
from clustermgr.logstore.records import StoredRecord
from clustermgr.web import sse

RECORD = "record"
READY = "ready"

#: What one record's message carries.
Shape = Callable[[StoredRecord], Mapping[str, Any]]


def resume_from(request: Request, after: int | None) -> int | None:
    """The id to go on after: ``?after=N``, else ``Last-Event-ID``; None when neither
    is given (the tail starts at the newest record).  InvalidInput for a bad one."""
    if after is None and not request.headers.get("last-event-id", "").strip():
        return None
    return sse.resume_after(request, after)


async def tail_stream(
    manager: Manager,
    cluster: str,
    query: str,
    *,
    user: str,
    after_id: int | None = None,
    keep_alive: float = sse.KEEP_ALIVE,
    poll: float = read.TAIL_POLL,
    shape: Shape = read.as_dict,
) -> sse.Stream:
    """The frames of the records of ``cluster`` matching ``query`` stored after
    ``after_id`` (after the newest one when None), until the reader stops.

    The cluster and the query are checked, and ``user``'s stream counted, before it
    starts: NotFound, InvalidInput or LimitReached come before any answer."""
    start = after_id if after_id is not None else await read.newest_id(manager, cluster)
    records = await read.tail(manager, cluster, query, after_id=start, poll=poll)
    try:
        release = sse.STREAMS.take(manager, user)
    except BaseException:
        await records.aclose()
        raise
    return sse.Stream(_frames(records, start, shape, keep_alive, release), release)


async def _frames(
    records: AsyncGenerator[list[StoredRecord], None],
    start: int,
    shape: Shape,
    keep_alive: float,
    release: Callable[[], None],
) -> AsyncGenerator[str, None]:
    try:
        yield sse.frame(READY, {"after": start}, event_id=start)
        quiet_since = time.monotonic()
        async for batch in records:
            for found in batch:
                yield sse.frame(RECORD, dict(shape(found)), event_id=found.id)
            if batch:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= keep_alive:
                yield sse.comment()
                quiet_since = time.monotonic()
    finally:
        release()
        await records.aclose()


def openapi_schema() -> dict[str, object]:
    """The OpenAPI description of one message of the tail."""
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": RECORD},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/LogRecordPublic"},
            },
        },
    }
