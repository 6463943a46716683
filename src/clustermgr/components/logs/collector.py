"""One server's follower, kept running by the manager across the watcher's checks.

:meth:`HostFollower.start` starts the follower program over the server's connection
(:func:`clustermgr.remote.stream.open_stream`) with the server's sources and the
resume points the store holds for them, so it goes on exactly where the store
stopped.  :meth:`HostFollower.drain` reads what it wrote since, for a bounded time,
and stores each batch (:mod:`~clustermgr.components.logs.ingest`) with its resume
point in one transaction.  Anything that goes wrong with a running follower (the
connection lost or no beat for :data:`SILENT_BEATS` beats: :class:`HostUnreachable`;
its end or a line the protocol has no place for: :class:`FollowerStopped`; a batch
the store did not take) stops it: what it had written and the store had not taken is read
again by the next follower, started from the store's resume points after a back-off
(:meth:`HostFollower.failed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from clustermgr.components.logs.ingest import (
    OK,
    Batch,
    Beat,
    SourceState,
    follower_resume,
    read_line,
)
from clustermgr.components.logs.program import FOLLOWER_PATH
from clustermgr.components.logs.sources import Source
from clustermgr.errors import CommandTimeout, HostUnreachable, RemoteError
from clustermgr.logstore.store import LogStore
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.stream import LineStream, open_stream

#: Seconds between two beats of a follower.
BEAT_SECONDS = 2.0
#: A follower silent for this many beats is taken as dead.
SILENT_BEATS = 3
#: Seconds without a line after which a drain ends early.
QUIET_SECONDS = 0.3
#: The first and the longest wait before a stopped follower is started again.
FIRST_RETRY = 1.0
LONGEST_RETRY = 10.0
#: Seconds a stopping follower (or its dead connection) is given.
STOP_SECONDS = 3.0

_ZONE = re.compile(r"([+-])(\d{2})(\d{2})")


class FollowerStopped(RemoteError):
    """The follower ended, fell silent or wrote what the protocol has no place for."""


@dataclass(frozen=True)
class Drained:
    batches: int = 0
    records: int = 0


def zone_of(text: str) -> tzinfo:
    """``date +%z``'s answer as a zone (UTC when it is not one)."""
    m = _ZONE.fullmatch(text.strip())
    if m is None or int(m[2]) > 23 or int(m[3]) > 59:
        return UTC
    delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
    return timezone(-delta if m[1] == "-" else delta)


async def server_zone(conn: Connection) -> tzinfo:
    """The server's offset from UTC now (UTC when it does not say)."""
    try:
        result = await conn.run(Command.of("date", "+%z"))
    except RemoteError:
        return UTC
    return zone_of(result.stdout) if result.ok else UTC


class HostFollower:
    """The follower of one server of one cluster, and what it said of its sources."""

    def __init__(
        self,
        cluster: str,
        host: str,
        store: LogStore,
        *,
        program: str = FOLLOWER_PATH,
        beat_seconds: float = BEAT_SECONDS,
    ) -> None:
        self.cluster = cluster
        self.host = host
        self.store = store
        self.program = program
        self.beat_seconds = beat_seconds
        self.sources: dict[str, Source] = {}
        self.tz: tzinfo = UTC
        self._stream: LineStream | None = None
        #: When the follower last wrote a line (monotonic seconds).
        self._heard = 0.0
        #: Source id -> its state when it is not ok (what the follower said last).
        self.states: dict[str, SourceState] = {}
        self._failures = 0
        #: When a stopped follower may be started again (monotonic seconds).
        self.retry_at = 0.0
        #: Why the follower stopped last, while it does not run (None: it runs, or never
        #: failed).
        self.problem: str | None = None
        #: Records stored since this object was made.
        self.stored = 0

    @property
    def running(self) -> bool:
        return self._stream is not None

    def due(self, now: float) -> bool:
        """Whether a stopped follower may be started now."""
        return not self.running and now >= self.retry_at

    async def start(self, conn: Connection, sources: tuple[Source, ...]) -> None:
        """Start the follower of ``sources`` from the store's resume points."""
        points = await self.store.resume_points(self.cluster, self.host)
        config = {
            "sources": [
                {**s.follower_config(), "resume": follower_resume(points.get(s.id))}
                for s in sources
            ],
            "beat_seconds": self.beat_seconds,
        }
        self.sources = {s.id: s for s in sources}
        self.tz = await server_zone(conn)
        stdin = json.dumps(config).encode() + b"\n"
        self._stream = await open_stream(conn, Command.of("python3", self.program), stdin)
        self._heard = time.monotonic()

    async def drain(self, seconds: float, quiet: float = QUIET_SECONDS) -> Drained:
        """Store what the follower wrote, for up to ``seconds``, ending early once it is
        quiet for ``quiet`` seconds.  On any failure the follower is stopped and the
        error raised (:class:`FollowerStopped` for the follower's own)."""
        stream = self._stream
        if stream is None:
            return Drained()
        try:
            return await self._drain(stream, seconds, quiet)
        except BaseException:
            await self.stop()
            raise

    async def _drain(self, stream: LineStream, seconds: float, quiet: float) -> Drained:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        batches = records = 0
        while (left := deadline - loop.time()) > 0:
            try:
                line = await stream.readline(min(quiet, left))
            except CommandTimeout:
                break
            if line is None:
                raise FollowerStopped(self.host, await self._ended(stream))
            self._heard = time.monotonic()
            self._failures = 0
            self.problem = None
            try:
                said = read_line(line, self.sources, self.host, self.tz, datetime.now(UTC))
            except ValueError as exc:
                raise FollowerStopped(self.host, f"the log follower wrote {exc}") from None
            if isinstance(said, Batch):
                await self.store.ingest(
                    self.cluster, self.host, said.source, said.records, said.resume
                )
                batches += 1
                records += len(said.records)
            elif isinstance(said, SourceState):
                if said.state == OK:
                    self.states.pop(said.source, None)
                else:
                    self.states[said.source] = said
            else:
                assert isinstance(said, Beat)
        silent = time.monotonic() - self._heard
        if silent > SILENT_BEATS * self.beat_seconds:
            # No beat: the connection died without a word (a partition).
            raise HostUnreachable(self.host, f"the log follower said nothing for {silent:.0f} s")
        self.stored += records
        return Drained(batches, records)

    async def _ended(self, stream: LineStream) -> str:
        with contextlib.suppress(Exception, TimeoutError):
            await asyncio.wait_for(stream.close(), STOP_SECONDS)  # its exit status known
        status = stream.exit_status
        tail = stream.stderr_tail.strip()
        said = f"the log follower ended (exit status {status})"
        return f"{said}: {tail.splitlines()[-1]}" if tail else said

    def failed(self, why: str) -> None:
        """Note why the follower stopped (or could not start); the next start waits,
        longer after each failure in a row."""
        self.problem = why
        wait = min(LONGEST_RETRY, FIRST_RETRY * 2**self._failures)
        self._failures += 1
        self.retry_at = time.monotonic() + wait

    async def stop(self) -> None:
        """Stop the follower (its stdin closed); a dead connection must not hang here."""
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(stream.close(), STOP_SECONDS)
