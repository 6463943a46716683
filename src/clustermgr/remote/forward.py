"""Talking to a server's own loopback services through its connection, and HTTP on that.

A service bound to 127.0.0.1 on a server (an exporter, a stats port) is reached
through the SSH connection the manager already holds: a direct-tcpip channel to
``127.0.0.1:PORT`` as the server sees it.  Nothing is opened on the network.
:class:`Forwards` is what such a connection offers; :func:`http_get` speaks plain
HTTP/1.0 over it (the server closes after the answer, so no chunking, no
keep-alive) and :func:`exchange` returns whatever a port says until it closes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clustermgr.errors import RemoteError
from clustermgr.remote.connection import Connection

#: Most bytes one exchange reads: an exporter's page is some hundred kilobytes.
MAX_ANSWER = 16 * 1024 * 1024


@runtime_checkable
class Forwards(Protocol):
    """A connection that reaches the server's loopback ports."""

    async def exchange(self, port: int, request: bytes, *, timeout: float) -> bytes:
        """Send ``request`` to ``127.0.0.1:port`` on the server; its answer until it
        closes.  :class:`RemoteError` when nothing listens there, :class:`CommandTimeout`
        past ``timeout``, :class:`HostUnreachable` when the connection is lost."""
        ...


class _Reader(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_to_end(reader: _Reader) -> bytes:
    """Everything ``reader`` gives until its end (at most :data:`MAX_ANSWER` bytes)."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_ANSWER:
        chunk = await reader.read(MAX_ANSWER - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


async def exchange(conn: Connection, port: int, request: bytes, *, timeout: float) -> bytes:
    """``request`` to the server's ``127.0.0.1:port``; its whole answer."""
    if not isinstance(conn, Forwards):
        raise RemoteError(conn.host, "this connection cannot reach the server's local ports")
    return await conn.exchange(port, request, timeout=timeout)


def http_request(path: str) -> bytes:
    """A GET of ``path`` on 127.0.0.1, answered uncompressed and then closed."""
    if not path.startswith("/") or any(c in path for c in " \r\n"):
        raise ValueError(f"not an HTTP path: {path!r}")
    return f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode("ascii")


def http_body(host: str, port: int, answer: bytes) -> bytes:
    """The body of a 200 answer; :class:`RemoteError` naming the status otherwise."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status.split(" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/"):
        shown = status[:60] or "nothing"
        raise RemoteError(host, f"127.0.0.1:{port} did not answer in HTTP (got {shown!r})")
    if parts[1] != "200":
        raise RemoteError(host, f"127.0.0.1:{port} answered {' '.join(parts[1:])}")
    return body


async def http_get(conn: Connection, port: int, path: str, *, timeout: float) -> bytes:
    """GET ``path`` from the server's ``127.0.0.1:port``; the body of its 200 answer."""
    answer = await exchange(conn, port, http_request(path), timeout=timeout)
    return http_body(conn.host, port, answer)
