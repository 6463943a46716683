"""Benchmark: the log store's ingest rate and search latency, SQLite and PostgreSQL.

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/logs.py [--rows 1000000] [--batch 500] [--queries 40]
                                        [--backends sqlite,postgresql] [--pg-url URL]
                                        [--tail-seconds 30]

For each backend, a fresh store (SQLite: a file in a temporary folder; PostgreSQL:
the database ``<name>_logbench`` next to ``--pg-url``, default
``$CLUSTERMGR_TEST_PG_URL``, emptied first) receives ``--rows`` realistic records
(syslog, slapd, NGINX access with some 502s, oxAuth log4j lines, some with a Java
stack trace) over three days from six hosts, ``--batch`` records a call, each
call with its resume point as the collector stores them.  Printed: the ingest
rate (records per second of time spent in the store; the goal is at least
20,000/s on SQLite), then the p50 and p95 of ``--queries`` searches (the newest
100) for a common word, a rarer word, a phrase and a filtered query (goal: p95
under 100 ms), and of a count and a 60-bar histogram of a word over the three days.

Then, on a lab of its own (one bare node, prefix ``cmblogs``, subnet
10.243.0.0/24), for each backend: a writer on the node appends ``--tail-seconds``
of 100 lines a second to a log file followed by the collector (the follower over
the node's SSH connection, drained as the watcher does); printed are the p50 and
p95 of the delay from a line's write on the node to its commit in the store (goal:
p95 under 2 s) and the follower's CPU on the node over that time (from its
``/proc/PID/stat``).

The machine may be shared: the load average is printed first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url, text

from clustermgr.core.manager import Manager
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import FieldValue, LogRecord, ResumePoint
from clustermgr.logstore.store import LogStore, log_store
from clustermgr.settings import Settings

CLUSTER = "bench"
HOSTS = ("idp1", "idp2", "idp3", "idp4", "ldap1", "lb")
SPAN = timedelta(days=3)
WORDS = ("session", "token", "client", "scope", "grant", "cache", "user", "request")
SEARCHES = {
    "common word": "conn",
    "word": "failed",
    "phrase": '"connection refused"',
    "filtered": "host:idp2 level:error session",
}


Sample = tuple[str | None, str, dict[str, FieldValue]]


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _syslog(rng: random.Random, host: str) -> Sample:
    pid = rng.randint(300, 40000)
    return rng.choice(
        [
            (
                "info",
                f"{host} sshd[{pid}]: Accepted publickey for root from {_ip(rng)} port "
                f"{rng.randint(1024, 65535)} ssh2",
                {},
            ),
            (
                "warning",
                f"{host} sshd[{pid}]: Failed password for invalid user "
                f"{rng.choice(WORDS)}{rng.randint(1, 99)} from {_ip(rng)}",
                {},
            ),
            ("info", f"{host} systemd[1]: Started Session {pid} of user root.", {}),
            ("info", f"{host} CRON[{pid}]: (root) CMD (run-parts /etc/cron.hourly)", {}),
            (
                "error",
                f"{host} stunnel[{pid}]: connect_blocking: connect {_ip(rng)}:7777: "
                "Connection refused (111)",
                {},
            ),
        ]
    )


def _slapd(rng: random.Random, host: str) -> Sample:
    conn, op = rng.randint(1000, 99999), rng.randint(0, 40)
    choices: list[Sample] = [
        (
            None,
            f'conn={conn} op={op} BIND dn="inum={_uuid(rng)},ou=people,o=gluu" method=128',
            {"conn": conn, "op": op},
        ),
        (
            None,
            f'conn={conn} op={op} SRCH base="ou=people,o=gluu" scope=2 deref=2 '
            f'filter="(uid={rng.choice(WORDS)}{rng.randint(1, 999)})"',
            {"conn": conn, "op": op},
        ),
        (
            None,
            f"conn={conn} op={op} RESULT tag=101 err=0 nentries=1 text=",
            {"conn": conn, "op": op},
        ),
        (
            None,
            f"conn={conn} fd={rng.randint(10, 99)} ACCEPT from IP={_ip(rng)}:"
            f"{rng.randint(1024, 65535)} (IP=0.0.0.0:1636)",
            {"conn": conn},
        ),
    ]
    return rng.choice(choices)


def _nginx(rng: random.Random, host: str) -> Sample:
    status = rng.choices([200, 302, 404, 502], weights=[85, 10, 4, 1])[0]
    method, path = rng.choice(
        [
            ("GET", "/identity/home.htm"),
            ("POST", "/oxauth/restv1/token"),
            ("GET", "/oxauth/restv1/authorize"),
            ("GET", "/.well-known/openid-configuration"),
        ]
    )
    size = rng.randint(100, 20000)
    return (
        None,
        f'{_ip(rng)} - - [06/Dec/2026:10:00:01 +0000] "{method} {path} HTTP/1.1" {status} '
        f'{size} "-" "Mozilla/5.0 (X11; Linux x86_64)" {rng.random():.3f}',
        {"status": status, "method": method, "path": path, "bytes": size},
    )


def _oxauth(rng: random.Random, host: str) -> Sample:
    word = rng.choice(WORDS)
    level = rng.choices(["info", "debug", "error"], weights=[70, 20, 10])[0]
    line = (
        f"2026-12-06 10:00:03,120 {level.upper()} [qtp-{rng.randint(1, 64)}] "
        f"[org.gluu.oxauth.service.{word.title()}Service] ({word.title()}Service.java:"
        f"{rng.randint(10, 900)}) - {word} {_uuid(rng)} processed in {rng.randint(1, 900)} ms"
    )
    if level == "error" and rng.random() < 0.3:
        line += (
            "\njava.net.SocketTimeoutException: Read timed out"
            "\n\tat java.net.SocketInputStream.socketRead0(Native Method)"
            "\n\tat org.gluu.persist.ldap.impl.LdapEntryManager.merge(LdapEntryManager.java:233)"
        )
    return level, line, {}


SOURCES = {"syslog": _syslog, "slapd": _slapd, "nginx-access": _nginx, "oxauth": _oxauth}


def batches(rows: int, size: int, start: datetime) -> Iterator[tuple[str, str, list[LogRecord]]]:
    """``rows`` records in batches of ``size``, each of one host and source, in time order."""
    rng = random.Random(7)
    step = SPAN / rows
    for first in range(0, rows, size):
        host, source = rng.choice(HOSTS), rng.choice(list(SOURCES))
        make = SOURCES[source]
        records = []
        for i in range(first, min(first + size, rows)):
            level, message, fields = make(rng, host)
            records.append(LogRecord(start + step * i, host, source, level, message, fields))
        yield host, source, records


async def ingest(store: LogStore, rows: int, size: int) -> tuple[float, float]:
    """Store the records; the records per second of time spent in the store, and per
    CPU second of this process (SQLite works in it; on a shared machine this is the
    rate a free core gives)."""
    spent = cpu = 0.0
    offset = 0
    start = datetime.now(UTC) - SPAN
    for host, source, records in batches(rows, size, start):
        offset += sum(len(r.message) + 1 for r in records)
        resume = ResumePoint(inode=1, offset=offset, fingerprint="00")
        began, began_cpu = time.perf_counter(), time.process_time()
        await store.ingest(CLUSTER, host, source, records, resume)
        spent += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    return rows / spent, rows / cpu


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``runs`` calls (after one to warm up)."""
    await call()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(times, n=20)
    return statistics.median(times), cuts[18]


async def searches(store: LogStore, runs: int) -> None:
    for name, typed in SEARCHES.items():
        query = parse_query(typed)

        async def search(typed: str = typed) -> object:
            # Read as the API reads it: the query's text parsed on each call.
            return await store.search(CLUSTER, parse_query(typed), since=None, until=None)

        p50, p95 = await timed(runs, search)
        hits = await store.count(CLUSTER, query, since=None, until=None)
        print(
            f"  search {name:12} {typed!r:34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({hits} match)"
        )
    until = datetime.now(UTC)
    word = parse_query("failed")
    p50, p95 = await timed(
        max(runs // 4, 3), lambda: store.count(CLUSTER, word, since=None, until=None)
    )
    print(
        f"  count 'failed'                                   p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
    )
    p50, p95 = await timed(
        max(runs // 4, 3),
        lambda: store.histogram(CLUSTER, word, since=until - SPAN, until=until, buckets=60),
    )
    print(f"  histogram 'failed', 60 bars                     p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")


def bench_database(url: str) -> str:
    """The benchmark's own PostgreSQL database beside ``url``, created when missing and
    emptied."""
    parsed = make_url(url)
    name = f"{parsed.database}_logbench"
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    own = parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(own, autocommit=True) as conn:
        conn.execute("drop schema public cascade")
        conn.execute("create schema public")
    return own


async def run(backend: str, url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cmbench-logs-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=url)
        manager = await Manager.open(settings)
        try:
            store = log_store(manager)
            rate, per_cpu = await ingest(store, args.rows, args.batch)
            print(
                f"{backend}: {args.rows} records in batches of {args.batch}: "
                f"{rate:,.0f} records/s ingested ({per_cpu:,.0f} per CPU second here)"
            )
            if backend == "postgresql":
                async with manager.db.session() as session:
                    await session.execute(text("ANALYZE log_records"))
            await searches(store, args.queries)
        finally:
            await manager.close()


def backend_urls(args: argparse.Namespace, tmp: str) -> Iterator[tuple[str, str]]:
    for backend in args.backends.split(","):
        if backend == "sqlite":
            yield backend, f"sqlite:///{tmp}/logs.db"
        elif backend == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (give --pg-url or set CLUSTERMGR_TEST_PG_URL)")
                continue
            yield backend, bench_database(args.pg_url)
        else:
            raise SystemExit(f"unknown backend {backend!r}: sqlite or postgresql")


async def main(args: argparse.Namespace) -> None:
    print(f"load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="cmbench-logs-db-") as tmp:
        for backend, url in backend_urls(args, tmp):
            await run(backend, url, args)
    if args.tail_seconds > 0:
        from logstail import tail_delays

        with tempfile.TemporaryDirectory(prefix="cmbench-logs-tail-") as tmp:
            await tail_delays(list(backend_urls(args, tmp)), args.tail_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("CLUSTERMGR_TEST_PG_URL"))
    parser.add_argument("--tail-seconds", type=float, default=30.0, help="0: no lab part")
    asyncio.run(main(parser.parse_args()))
