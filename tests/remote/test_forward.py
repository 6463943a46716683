"""Reaching a server's loopback ports through its connection: raw exchanges and HTTP.

The sshd test hosts run on this machine, so a port opened here on 127.0.0.1 is the
server's loopback port too: the SSH connection's direct-tcpip channel reaches it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from clustermgr.errors import CommandTimeout, RemoteError
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.forward import exchange, http_body, http_get, http_request
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.ssh import SshConnection

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
PAGE = b"# TYPE up gauge\nup 1\n" * 5000  # larger than one SSH window's worth of packets


async def http_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    status = b"200 OK" if request.startswith(b"GET /metrics HTTP/1.0\r\n") else b"404 Not Found"
    writer.write(b"HTTP/1.0 " + status + b"\r\nContent-Type: text/plain\r\n\r\n" + PAGE)
    await writer.drain()
    writer.close()


async def stats(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b'{"service": "nutcracker"}')
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_request_is_a_plain_http_1_0_get() -> None:
    assert (
        http_request("/metrics")
        == b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"
    )
    with pytest.raises(ValueError):
        http_request("/a b\r\nX: y")


def test_only_a_200_answer_gives_its_body() -> None:
    assert http_body("h", 1, b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody") == b"body"
    with pytest.raises(RemoteError, match="answered 404 Not Found"):
        http_body("h", 1, b"HTTP/1.0 404 Not Found\r\n\r\n")
    with pytest.raises(RemoteError, match="did not answer in HTTP"):
        http_body("h", 1, b"")


async def check(conn: Connection, serve: Callable[[Handler], Awaitable[int]]) -> None:
    port = await serve(http_page)
    assert await http_get(conn, port, "/metrics", timeout=5) == PAGE
    with pytest.raises(RemoteError, match="404"):
        await http_get(conn, port, "/other", timeout=5)
    stats_port = await serve(stats)
    assert await exchange(conn, stats_port, b"", timeout=5) == b'{"service": "nutcracker"}'
    with pytest.raises(RemoteError) as closed:
        await exchange(conn, free_port(), b"", timeout=5)
    assert not isinstance(closed.value, CommandTimeout)
    with pytest.raises(CommandTimeout, match=r"did not answer within 0\.3 s"):
        await exchange(conn, await serve(silent), b"", timeout=0.3)


async def test_a_local_connection_reaches_its_own_ports(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    await check(LocalConnection(), serve)


@pytest.mark.integration
async def test_an_ssh_connection_reaches_the_servers_loopback_ports(
    ssh: SshConnection, serve: Callable[[Handler], Awaitable[int]]
) -> None:
    await check(ssh, serve)
    # The connection still runs commands after a refused or timed-out channel.
    assert (await ssh.run(Command.of("echo", "ok"))).check().stdout == "ok\n"
