"""Long-running programs on a server, read line by line as they write.

A program the manager keeps running on a server (the log follower) is started on
the server's connection like any command (the same :class:`Command`, the same
masking in logs, the same privilege prefix), but instead of waiting for its end the
caller gets a :class:`LineStream`: it reads the program's standard output one line
at a time, and its standard input stays open until :meth:`LineStream.close`.
:class:`Streams` is what such a connection offers; :func:`open_stream` starts one.

A line is what the program writes up to a newline, without it (a last line
without one counts too).  Lines may be long (a batch of records is one line):
up to :data:`MAX_LINE` bytes; a longer one is a :class:`RemoteError`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clustermgr.errors import RemoteError
from clustermgr.redact import redact
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection

#: The longest line a stream accepts, in bytes (the newline not counted).
MAX_LINE = 16 * 1024 * 1024
#: Bytes asked for in one read of the program's output.
CHUNK = 256 * 1024
#: How much of the program's standard error a stream keeps (its last bytes).
STDERR_TAIL = 4096
#: Seconds :meth:`LineStream.close` gives the program to end after its stdin closed.
CLOSE_GRACE = 2.0


class LineStream(Protocol):
    """A program running on a server: its output line by line, its stdin open."""

    @property
    def host(self) -> str: ...

    async def readline(self, timeout: float) -> bytes | None:
        """The next line the program wrote (without its newline); None once its output
        ended.  :class:`CommandTimeout` when no whole line came within ``timeout``
        seconds (the program may still run), :class:`HostUnreachable` when the
        connection is lost, :class:`RemoteError` for a line over :data:`MAX_LINE`."""
        ...

    async def close(self) -> None:
        """Close the program's stdin, give it :data:`CLOSE_GRACE` seconds to end, then
        stop it.  Idempotent; never raises for a program or connection already gone."""
        ...

    @property
    def exit_status(self) -> int | None:
        """The program's exit status once it ended (negative: the signal that killed it);
        None while it runs or when the server did not say."""
        ...

    @property
    def stderr_tail(self) -> str:
        """The last bytes the program wrote on standard error, secrets redacted."""
        ...


@runtime_checkable
class Streams(Protocol):
    """A connection that runs a program and reads it line by line."""

    async def stream(self, command: Command, stdin: bytes = b"") -> LineStream:
        """Start ``command`` (through the connection's prefix), write ``stdin`` to it and
        keep its stdin open.  :class:`HostUnreachable` when the connection is lost."""
        ...


async def open_stream(conn: Connection, command: Command, stdin: bytes = b"") -> LineStream:
    """Start ``command`` on ``conn``'s server as a :class:`LineStream`."""
    if not isinstance(conn, Streams):
        raise RemoteError(conn.host, "this connection cannot keep a program running")
    return await conn.stream(command, stdin)


class LineBuffer:
    """Bytes as they arrive, cut into lines; a line over ``limit`` bytes is an error."""

    def __init__(self, host: str, limit: int = MAX_LINE) -> None:
        self._host = host
        self._limit = limit
        self._data = bytearray()
        #: Where the search for the next newline starts (the bytes before hold none).
        self._scanned = 0

    def feed(self, chunk: bytes) -> None:
        self._data += chunk

    def line(self) -> bytes | None:
        """The next whole line, or None until its newline arrives."""
        cut = self._data.find(b"\n", self._scanned)
        if cut < 0:
            self._scanned = len(self._data)
            if self._scanned > self._limit:
                raise self.too_long()
            return None
        if cut > self._limit:
            raise self.too_long()
        found = bytes(self._data[:cut])
        del self._data[: cut + 1]
        self._scanned = 0
        return found

    def rest(self) -> bytes | None:
        """At the end of the output: what is left (a last line without a newline)."""
        if not self._data:
            return None
        found = bytes(self._data)
        self._data.clear()
        self._scanned = 0
        return found

    def too_long(self) -> RemoteError:
        return RemoteError(
            self._host,
            f"a program's output line is longer than {self._limit} bytes",
            hint="the program must cut what it writes into shorter lines",
        )


class Tail:
    """The last :data:`STDERR_TAIL` bytes of a stream of bytes."""

    def __init__(self, size: int = STDERR_TAIL) -> None:
        self._size = size
        self._data = b""

    def add(self, chunk: bytes) -> None:
        self._data = (self._data + chunk)[-self._size :]

    def text(self) -> str:
        return redact(self._data.decode("utf-8", errors="replace"))
