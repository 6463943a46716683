"""Running one job to its end: the code shared by the manager and the queue workers.

Events from the work are buffered and written in small batches (the database
row and its events are what every front end reads); a helper task turns a cancel
request in the database into the flag the executor checks between steps, and
renews the job's heartbeat (a running job without one belongs to a dead process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, DatabaseError
from clustermgr.jobs import store
from clustermgr.jobs.kinds import JobContext, KindCatalog
from clustermgr.jobs.models import JobState
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.executor import CANCELLED

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.2
FINISH_ATTEMPTS = 4
CANCEL_POLL = 0.5


class EventWriter:
    """Collects events synchronously, writes them from a background task.

    The task is stopped with :meth:`close`, never cancelled: a task cancelled in
    the middle of a commit can leave its SQLite connection holding the write
    lock, and every other writer then finds the database locked.
    """

    def __init__(self, manager: Manager, job_id: int) -> None:
        self.manager = manager
        self.job_id = job_id
        self._pending: list[Event] = []
        self._next_seq = 1
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()

    def emit(self, event: Event) -> None:
        self._pending.append(event)
        self._wake.set()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            await store.append_events(self.manager, self.job_id, self._next_seq, batch)
            self._next_seq += len(batch)

    def close(self) -> None:
        """Stop :meth:`run` once its current write is done; :meth:`flush` writes the rest."""
        self._closed.set()
        self._wake.set()

    async def run(self) -> None:
        while not self._closed.is_set():
            await self._wake.wait()
            self._wake.clear()
            if self._closed.is_set():
                return
            await self.flush()
            await _pause(self._closed, FLUSH_INTERVAL)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less once ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def execute(manager: Manager, kinds: KindCatalog, job_id: int) -> JobState | None:
    """Run a queued job. Returns its final state, or None when another run claimed it."""
    if not await store.claim(manager, job_id):
        return None
    job = await store.get(manager, job_id)
    writer = EventWriter(manager, job_id)
    cancel, ended = asyncio.Event(), asyncio.Event()
    tasks = [
        asyncio.create_task(writer.run()),
        asyncio.create_task(_watch_cancel(manager, job_id, cancel, ended)),
    ]
    state, result, error = JobState.FAILED, None, None
    try:
        work = kinds.get(job.kind)
        writer.emit(Event(EventKind.PLAN_STARTED, f"{work.title} of cluster {job.cluster}"))
        ctx = JobContext(
            manager,
            job.cluster,
            work.parse(job.params),
            writer.emit,
            cancel.is_set,
            actor=job.requested_by,
            plan_digest=job.params.get("plan_digest"),
        )
        report = await work.run(ctx)
        result = report.as_dict()
        if cancel.is_set() and _was_cut_short(result):
            state = JobState.CANCELLED
        else:
            state = JobState.SUCCEEDED if report.ok else JobState.FAILED
    except ClustermgrError as exc:
        error = exc.message
        writer.emit(Event(EventKind.PLAN_FINISHED, f"failed: {exc.message}"))
    except asyncio.CancelledError:
        state, error = JobState.INTERRUPTED, "the manager stopped while the job ran"
        raise
    except Exception as exc:  # a bug: keep the job record honest, log the traceback
        log.exception("job #%s failed unexpectedly", job_id)
        error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        # Stopped, not cancelled: each finishes the database call it is in.
        writer.close()
        ended.set()
        for failed in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(failed, Exception):
                log.warning("job #%s: a helper task failed: %s", job_id, failed)
        with contextlib.suppress(Exception):
            await asyncio.shield(writer.flush())
        await asyncio.shield(_record_end(manager, job_id, state, result, error))
    return state


async def _record_end(
    manager: Manager,
    job_id: int,
    state: JobState,
    result: dict[str, object] | None,
    error: str | None,
) -> None:
    """The job's end must reach the database, or it would show running forever."""
    for attempt in range(FINISH_ATTEMPTS):
        try:
            await store.finish(manager, job_id, state, result=result, error=error)
            return
        except DatabaseError:
            if attempt == FINISH_ATTEMPTS - 1:
                raise
            log.warning("job #%s: recording its end failed, retrying", job_id)
            await asyncio.sleep(0.5 * (attempt + 1))


def _was_cut_short(result: dict[str, object]) -> bool:
    hosts = result.get("hosts")
    if not isinstance(hosts, dict):
        return False
    return any(r.get("reason") == CANCELLED for rs in hosts.values() for r in rs)


async def _watch_cancel(
    manager: Manager, job_id: int, cancel: asyncio.Event, ended: asyncio.Event
) -> None:
    """Until the job ends: turn a cancel request into ``cancel``, renew its heartbeat."""
    beat = time.monotonic()
    while True:
        await _pause(ended, CANCEL_POLL)
        if ended.is_set():
            return
        if time.monotonic() - beat >= store.HEARTBEAT_EVERY:
            beat = time.monotonic()
            try:
                await store.beat(manager, job_id)
            except DatabaseError as exc:  # the next beat may get through
                log.warning("job #%s: recording its heartbeat failed: %s", job_id, exc.message)
        if not cancel.is_set() and await store.cancel_requested(manager, job_id):
            cancel.set()
