"""Server-Sent Events of a job: one formatter for the GUI's stream and the API's.

:func:`job_stream` turns :func:`clustermgr.jobs.service.follow` into the text
frames of ``text/event-stream``: ``step`` for each stored event (the API's
EventPublic as JSON, its ``seq`` as the SSE ``id`` so a reconnecting client resumes with
``Last-Event-ID``), a final ``done`` with the JobPublic as JSON, and a comment
line every :data:`KEEP_ALIVE` seconds of silence so proxies keep the
connection open.

A user follows at most ``streams_per_user`` streams at once on one manager
process; one more is refused with :class:`~clustermgr.errors.LimitReached`
before its answer starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping

from fastapi import Request

from clustermgr.core.manager import Manager
from clustermgr.db.engine import Database
from clustermgr.errors import InvalidInput, LimitReached
from clustermgr.jobs import service as jobs
from clustermgr.jobs.views import EventView, JobView

MEDIA_TYPE = "text/event-stream"
#: Seconds without an event after which a comment line is sent.
KEEP_ALIVE = 15.0
STEP = "step"
DONE = "done"
#: Answer headers of every stream: no caching, no buffering by a reverse proxy.
HEADERS: Mapping[str, str] = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
#: The largest event id (a database integer).
MAX_EVENT_ID = 2**63 - 1


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
    """Where a stream starts: ``?after=N``, else the ``Last-Event-ID`` header, else 0.

    Either must be an event id (0 to :data:`MAX_EVENT_ID`): anything else is
    :class:`InvalidInput`, answered before the stream starts.
    """
    expected = f"an event id, 0 to {MAX_EVENT_ID}"
    if after is not None:
        if not 0 <= after <= MAX_EVENT_ID:
            raise InvalidInput(f"invalid after={after}: {expected}")
        return after
    header = request.headers.get("last-event-id", "").strip()
    if not header:
        return 0
    digits = header.isascii() and header.isdigit() and len(header) <= len(str(MAX_EVENT_ID))
    if not digits or int(header) > MAX_EVENT_ID:
        raise InvalidInput(f"invalid Last-Event-ID {header[:40]!r}: {expected}")
    return int(header)


class _Streams:
    """How many streams each user follows now, per database (so per manager)."""

    def __init__(self) -> None:
        self._open: weakref.WeakKeyDictionary[Database, Counter[str]] = weakref.WeakKeyDictionary()

    def take(self, manager: Manager, user: str) -> Callable[[], None]:
        """Count one more stream of ``user``; returns its release (safe to call twice)."""
        counts = self._open.setdefault(manager.db, Counter())
        limit = manager.settings.streams_per_user
        if counts[user] >= limit:
            raise LimitReached(
                f"{user} already follows {counts[user]} streams (at most {limit})",
                hint="close another page or client that follows a job or a log, then retry",
            )
        counts[user] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                counts[user] -= 1
                if counts[user] <= 0:
                    del counts[user]

        return release

    def count(self, manager: Manager, user: str) -> int:
        return self._open.get(manager.db, Counter())[user]


STREAMS = _Streams()


class Stream:
    """The frames of one job stream; its place among the user's streams is given
    back when it ends, when it is closed, or when it is dropped unread."""

    def __init__(self, frames: AsyncGenerator[str, None], release: Callable[[], None]) -> None:
        self._frames = frames
        self._release = release
        weakref.finalize(self, release)

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> str:
        return await anext(self._frames)

    async def aclose(self) -> None:
        self._release()
        await self._frames.aclose()


async def job_stream(
    manager: Manager,
    job_id: int,
    *,
    user: str,
    after: int = 0,
    keep_alive: float = KEEP_ALIVE,
    poll: float = jobs.FOLLOW_POLL,
) -> Stream:
    """The frames of job ``job_id``'s events after ``after``, ending with ``done``.

    The job is looked up and ``user``'s stream counted first, so an unknown id
    raises ``NotFound`` and one stream too many ``LimitReached`` before the
    caller has started a response.  The stream's place is given back when it
    ends, is closed, or is dropped without being read.
    """
    await jobs.get(manager, job_id)
    release = STREAMS.take(manager, user)
    follow = jobs.follow(manager, job_id, after=after, poll=poll)
    return Stream(_frames(follow, keep_alive, release), release)


async def _frames(
    source: AsyncIterator[EventView | JobView],
    keep_alive: float,
    release: Callable[[], None],
) -> AsyncGenerator[str, None]:
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
        release()
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
