"""Reading one server's metrics through its SSH connection.

Every server's node exporter; on identity nodes the Redis exporter and slapd's
cn=monitor (``ldapsearch`` as root over ldapi); on the proxy the NGINX exporter
and twemproxy's stats port.  Exporters and stats ports are bound to 127.0.0.1:
they are reached through a direct-tcpip channel of the server's connection,
never over the network.  A server whose connection cannot be opened (or drops)
is unreachable and gives no readings at all, and so is one whose every source
timed out (the connection carries nothing); a source that fails on a reachable
server gives none of its own and says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from clustermgr import topology
from clustermgr.components.metrics import scrapeparse
from clustermgr.components.metrics.catalog import Source
from clustermgr.core.access import HostAccess
from clustermgr.errors import ClustermgrError, CommandTimeout, HostUnreachable
from clustermgr.facts.ldap import ldapsearch_root
from clustermgr.inventory.schemas import ServerView
from clustermgr.monitor.series.ingest import Reading
from clustermgr.monitor.watching import forget_host
from clustermgr.remote.connection import Connection
from clustermgr.remote.forward import exchange, http_get
from clustermgr.topology import Role

Fetch = Callable[[Connection, float], Awaitable[str]]
Parse = Callable[[str, str], list[Reading]]


def _exporter(port: topology.PortUse) -> Fetch:
    async def fetch(conn: Connection, timeout: float) -> str:
        body = await http_get(conn, port.port, topology.EXPORTER_METRICS_PATH, timeout=timeout)
        return body.decode("utf-8", errors="replace")

    return fetch


async def _twemproxy(conn: Connection, timeout: float) -> str:
    """twemproxy writes its stats to whoever connects, then closes."""
    answer = await exchange(conn, topology.TWEMPROXY_STATS.port, b"", timeout=timeout)
    return answer.decode("utf-8", errors="replace")


#: What ``ldapsearch`` asks cn=monitor: operations completed, connections open.
MONITOR_SEARCH = ldapsearch_root(
    "-b",
    "cn=Monitor",
    "(|(objectClass=monitorOperation)(objectClass=monitorCounterObject))",
    "monitorOpCompleted",
    "monitorCounter",
)


async def _ldap(conn: Connection, timeout: float) -> str:
    return (await conn.run(MONITOR_SEARCH, timeout=timeout)).check().stdout


@dataclass(frozen=True)
class Reader:
    source: Source
    #: The roles of the servers that have it (every server when empty).
    roles: frozenset[Role]
    fetch: Fetch
    parse: Parse


READERS: tuple[Reader, ...] = (
    Reader(Source.NODE, frozenset(), _exporter(topology.NODE_EXPORTER), scrapeparse.node),
    Reader(Source.LDAP, frozenset({Role.IDENTITY}), _ldap, scrapeparse.ldap),
    Reader(
        Source.REDIS,
        frozenset({Role.IDENTITY}),
        _exporter(topology.REDIS_EXPORTER),
        scrapeparse.redis,
    ),
    Reader(Source.TWEMPROXY, frozenset({Role.PROXY}), _twemproxy, scrapeparse.twemproxy),
    Reader(
        Source.NGINX, frozenset({Role.PROXY}), _exporter(topology.NGINX_EXPORTER), scrapeparse.nginx
    ),
)


def readers_for(role: Role) -> tuple[Reader, ...]:
    return tuple(r for r in READERS if not r.roles or role in r.roles)


@dataclass(frozen=True)
class HostScrape:
    host: str
    readings: list[Reading] = field(default_factory=list)
    #: Source -> why it gave nothing (the server was reachable).
    errors: dict[str, str] = field(default_factory=dict)
    #: Why the server could not be reached (None: it was).
    unreachable: str | None = None


def connection_lost(results: list[list[Reading] | BaseException]) -> ClustermgrError | None:
    """Why the connection carries nothing, or None: it dropped, or every source timed out
    (a server cut off the network keeps its connection open until keepalives give up)."""
    for result in results:
        if isinstance(result, HostUnreachable):
            return result
    if results and all(isinstance(r, CommandTimeout) for r in results):
        first = results[0]
        return first if isinstance(first, ClustermgrError) else None
    return None


async def scrape_host(access: HostAccess, server: ServerView, timeout: float) -> HostScrape:
    """Every source of ``server``, at once on its one connection."""
    host = server.hostname
    try:
        conn = await access.connection(host)
    except ClustermgrError as exc:
        await forget_host(access, host)  # the next scrape connects anew
        return HostScrape(host, unreachable=exc.message)

    async def one(reader: Reader) -> list[Reading]:
        try:
            # A command's own deadline is kept by the server: a dead connection
            # would make it wait longer for an answer that never comes.
            async with asyncio.timeout(timeout):
                text = await reader.fetch(conn, timeout)
        except TimeoutError:
            said = f"{reader.source.value} gave nothing within {timeout:g} s"
            raise CommandTimeout(host, said) from None
        return reader.parse(host, text)

    readers = readers_for(server.role)
    results = await asyncio.gather(*(one(r) for r in readers), return_exceptions=True)
    lost = connection_lost(results)
    if lost is not None:
        await forget_host(access, host)  # the next scrape connects anew
        return HostScrape(host, unreachable=lost.message)
    scraped = HostScrape(host)
    for reader, result in zip(readers, results, strict=True):
        if isinstance(result, ClustermgrError):
            scraped.errors[reader.source.value] = result.message
        elif isinstance(result, BaseException):
            raise result
        else:
            scraped.readings.extend(result)
    return scraped
