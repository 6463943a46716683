"""Server-Sent Events of a job: one formatter for the GUI's stream and the API's.

:func:`job_stream` turns :func:`clustermgr.jobs.service.follow` into the text
frames of ``text/event-stream``: ``step`` for each stored event (the API's
EventPublic as JSON, its ``seq`` as the SSE ``id`` so a reconnecting client resumes with
``Last-Event-ID``), a final ``done`` with the JobPublic as JSON, and a comment
line every :data:`KEEP_ALIVE` seconds of silence so proxies keep the
connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping

from fastapi import Request

from clustermgr.core.manager import Manager
from clustermgr.jobs import service as jobs
from clustermgr.jobs.views import EventView, JobView

MEDIA_TYPE = "text/event-stream"
#: Seconds without an event after which a comment line is sent.
KEEP_ALIVE = 15.0
STEP = "step"
DONE = "done"
#: Answer headers of every stream: no caching, no buffering by a reverse proxy.
HEADERS: Mapping[str, str] = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def frame(event: str, data: object, *, event_id: int | None = None) -> str:
    """One SSE message; ``data`` as compact JSON on one line."""
    head = f"event: {event}\n"
    if event_id is not None:
        head += f"id: {event_id}\n"
    return f"{head}data: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


def comment(text: str = "keep-alive") -> str:
    """A comment line: ignored by clients, keeps proxies from closing an idle stream."""
    return f": {text}\n\n"


def resume_after(request: Request, after: int | None) -> int:
    """Where a stream starts: ``?after=N``, else the ``Last-Event-ID`` header, else 0."""
    if after is not None:
        return max(after, 0)
    header = request.headers.get("last-event-id", "").strip()
    return int(header) if header.isdigit() else 0


async def job_stream(
    manager: Manager,
    job_id: int,
    *,
    after: int = 0,
    keep_alive: float = KEEP_ALIVE,
    poll: float = jobs.FOLLOW_POLL,
) -> AsyncIterator[str]:
    """The frames of job ``job_id``'s events after ``after``, ending with ``done``.

    The job is looked up first, so an unknown id raises ``NotFound`` before the
    caller has started a response.
    """
    await jobs.get(manager, job_id)
    return _frames(jobs.follow(manager, job_id, after=after, poll=poll), keep_alive)


async def _frames(
    source: AsyncIterator[EventView | JobView], keep_alive: float
) -> AsyncIterator[str]:
    # Imported here: the API package imports this module while it loads.
    from clustermgr.web.api.models import EventPublic, JobPublic

    pending: asyncio.Task[EventView | JobView] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait({pending}, timeout=keep_alive)
            if not done:
                yield comment()
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            if isinstance(item, EventView):
                yield frame(STEP, EventPublic.of(item).model_dump(mode="json"), event_id=item.seq)
            else:
                yield frame(DONE, JobPublic.of(item).model_dump(mode="json"))
                return
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def openapi_schema() -> dict[str, object]:
    """The OpenAPI description of one message of a job's stream (``step`` or ``done``)."""
    from clustermgr.web.api.models import EventPublic

    def message(event: str, data: dict[str, object]) -> dict[str, object]:
        return {
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"const": event},
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": data,
                },
            },
        }

    step = EventPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "oneOf": [
            message(STEP, step),
            message(DONE, {"$ref": "#/components/schemas/JobPublic"}),
        ]
    }
