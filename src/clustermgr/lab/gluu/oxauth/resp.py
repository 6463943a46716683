"""A few lines of RESP: enough Redis client for the REDIS cache provider.

Lab hosts have no redis-py; sessions need only AUTH, SET with EX and GET, over
plain TCP or TLS (Redis behind stunnel or twemproxy looks the same from here).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any


class RedisError(Exception):
    """Redis answered with an error, or could not be reached."""


class Resp:
    """A minimal RESP2 client: one connection, one command at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")

    @classmethod
    def connect(
        cls, host: str, port: int, *, timeout: float, tls: ssl.SSLContext | None = None
    ) -> Resp:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise RedisError(f"cannot reach {host}:{port}: {exc}") from exc
        if tls is None:
            return cls(sock)
        try:
            return cls(tls.wrap_socket(sock, server_hostname=host))
        except OSError as exc:
            sock.close()
            raise RedisError(f"TLS with {host}:{port} failed: {exc}") from exc

    def __enter__(self) -> Resp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def call(self, *args: str | int) -> Any:
        parts = [str(a).encode() for a in args]
        frame = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        try:
            self._sock.sendall(frame)
            return self._read()
        except OSError as exc:
            raise RedisError(f"connection lost: {exc}") from exc

    def _read(self) -> Any:
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._reader.read(size + 2)[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise RedisError(f"unexpected reply {line[:20]!r}")
