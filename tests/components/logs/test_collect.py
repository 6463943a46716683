"""The collector on this machine: the real follower (on a local connection) following
real files, its batches stored in the real log store (SQLite and PostgreSQL), across
a rotation by rename, a copytruncate and a restart of the manager's side."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import cast

import pytest

from clustermgr.components.logs import follower as follower_program
from clustermgr.components.logs.collector import FollowerStopped, HostFollower, zone_of
from clustermgr.components.logs.ingest import (
    BadLine,
    Batch,
    Beat,
    SourceState,
    follower_resume,
    read_line,
)
from clustermgr.components.logs.masking import hold_cluster_secrets
from clustermgr.components.logs.sources import JOURNAL, Format, Source
from clustermgr.components.logs.watch import host_of, judge
from clustermgr.core.manager import Manager
from clustermgr.errors import HostUnreachable
from clustermgr.inventory.models import ClusterSecret
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import LogStore, log_store
from clustermgr.monitor.alerts import Severity
from clustermgr.redact import MASK, Secret, redact
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.stream import LineStream
from clustermgr.services import clusters
from polling import eventually

PROGRAM = str(Path(follower_program.__file__))
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def app_source(path: Path) -> Source:
    return Source("app", "App", Format.SYSLOG, str(path))


def append(path: Path, numbers: range) -> None:
    with path.open("a") as f:
        f.writelines(f"line {n}\n" for n in numbers)


async def stored_numbers(store: LogStore) -> list[int]:
    found = await store.after("prod", parse_query("source:app"), 0, limit=5000)
    return [int(r.record.message.split()[1]) for r in found]


@pytest.fixture
async def store(manager: Manager) -> AsyncIterator[LogStore]:
    opened = log_store(manager)
    yield opened


async def follow(store: LogStore, source: Source) -> HostFollower:
    follower = HostFollower("prod", "idp1", store, program=PROGRAM, beat_seconds=0.5)
    await follower.start(LocalConnection("idp1"), (source,))
    return follower


async def missing(follower: HostFollower) -> None:
    """Wait until the follower says its file is missing (it follows it from its start
    once it is there)."""

    async def states() -> object:
        await follower.drain(0.3)
        return follower.states

    await eventually(states, timeout=10)
    assert follower.states["app"].state == "missing"


async def drained_until(follower: HostFollower, store: LogStore, count: int) -> list[int]:
    async def numbers() -> list[int]:
        await follower.drain(0.5, quiet=0.2)
        return await stored_numbers(store)

    return await eventually(numbers, until=lambda n: len(n) >= count, timeout=20)


async def test_every_line_is_stored_once_across_rotations_and_restarts(
    store: LogStore, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    source = app_source(log)
    first = await follow(store, source)
    try:
        # Not there yet: waited for, then followed from its start.
        await missing(first)
        append(log, range(0, 100))
        await drained_until(first, store, 100)
        assert first.states == {}, "the source is read again"
        # Rotation by rename: the old file's last lines, then the new file's.
        log.rename(tmp_path / "app.log.1")
        append(tmp_path / "app.log.1", range(100, 120))
        append(log, range(120, 200))
        await drained_until(first, store, 200)
    finally:
        await first.stop()
    # While nothing follows: more lines, then a copytruncate, then more lines.
    append(log, range(200, 300))
    shutil.copy(log, tmp_path / "app.log.2")
    log.write_bytes(b"")
    append(log, range(300, 350))
    second = await follow(store, source)  # a manager restarted: from the store's points
    try:
        numbers = await drained_until(second, store, 350)
    finally:
        await second.stop()
    assert sorted(numbers) == list(range(350)), "every line once"
    point = (await store.resume_points("prod", "idp1"))["app"]
    assert point.inode == log.stat().st_ino and point.offset == log.stat().st_size


async def test_the_secrets_the_manager_holds_are_masked(store: LogStore, tmp_path: Path) -> None:
    held = Secret.held("collector-held-secret-4711")
    typed = "typed-not-held-0815"
    log = tmp_path / "app.log"
    follower = await follow(store, app_source(log))
    try:
        await missing(follower)
        with log.open("a") as f:
            f.write(f"line 1 password={held.reveal()} other={typed}\n")
        await drained_until(follower, store, 1)
    finally:
        await follower.stop()
    [record] = await store.after("prod", parse_query("source:app"), 0)
    assert record.record.message == f"line 1 password={MASK} other={typed}"


async def test_a_follower_that_ends_is_stopped_and_says_why(
    store: LogStore, tmp_path: Path
) -> None:
    follower = HostFollower("prod", "idp1", store, program=str(tmp_path / "none.py"))
    await follower.start(LocalConnection("idp1"), (app_source(tmp_path / "a.log"),))
    with pytest.raises(FollowerStopped, match="exit status 2") as caught:
        await eventually(lambda: follower.drain(1.0), until=lambda _: False, timeout=10)
    assert not follower.running
    assert "none.py" in caught.value.message
    follower.failed(caught.value.message)
    assert not follower.due(0.0) and follower.problem == caught.value.message


async def test_a_silent_follower_counts_as_a_lost_connection(
    store: LogStore, tmp_path: Path
) -> None:
    """A program that never beats (a connection that died without a word)."""
    silent = tmp_path / "silent.py"
    silent.write_text("import sys\nsys.stdin.read()\n")
    follower = HostFollower("prod", "idp1", store, program=str(silent), beat_seconds=0.1)
    await follower.start(LocalConnection("idp1"), ())
    with pytest.raises(HostUnreachable, match="said nothing"):
        await eventually(lambda: follower.drain(0.2, quiet=0.1), until=lambda _: False, timeout=5)
    assert not follower.running


def test_a_batch_is_its_records_and_its_resume_point(tmp_path: Path) -> None:
    sources = {"app": app_source(tmp_path / "a.log"), "journal": JOURNAL}
    line = {"t": "batch", "src": "app", "inode": 7, "start": 0, "end": 12,
            "fingerprint": "6c696e65", "recs": ["line 1"]}  # fmt: skip
    said = read_line(json.dumps(line).encode(), sources, "idp1", UTC, NOW)
    assert isinstance(said, Batch) and said.source == "app"
    assert said.resume == ResumePoint(inode=7, offset=12, fingerprint="6c696e65")
    assert [(r.message, r.host, r.source) for r in said.records] == [("line 1", "idp1", "app")]
    moved = read_line(json.dumps({**line, "recs": []}).encode(), sources, "idp1", UTC, NOW)
    assert isinstance(moved, Batch) and moved.records == () and moved.resume.offset == 12
    entry = {"__CURSOR": "s=1", "MESSAGE": "conn=5 op=1 SRCH", "SYSLOG_IDENTIFIER": "slapd"}
    journal = {"t": "batch", "src": "journal", "cursor": "s=1", "recs": [json.dumps(entry)]}
    said = read_line(json.dumps(journal).encode(), sources, "idp1", UTC, NOW)
    assert isinstance(said, Batch) and said.source == "journal"
    assert said.resume == ResumePoint(cursor="s=1")
    assert [r.source for r in said.records] == ["slapd"], "source:slapd finds it"


def test_states_beats_and_bad_lines(tmp_path: Path) -> None:
    sources = {"app": app_source(tmp_path / "a.log")}
    state = {"t": "state", "src": "app", "state": "denied", "detail": "Permission denied"}
    assert read_line(json.dumps(state).encode(), sources, "h", UTC, NOW) == SourceState(
        "app", "denied", "Permission denied"
    )
    assert isinstance(read_line(b'{"t": "beat", "at": 1}', sources, "h", UTC, NOW), Beat)
    for bad in (b"not json", b"[]", b'{"t": "batch", "src": "other", "recs": []}',
                b'{"t": "batch", "src": "app", "recs": ["x"]}', b'{"t": "what", "src": "app"}'):  # fmt: skip
        with pytest.raises(BadLine):
            read_line(bad, sources, "h", UTC, NOW)


def test_a_stored_resume_point_is_the_follower_s() -> None:
    assert follower_resume(None) is None
    assert follower_resume(ResumePoint()) is None
    assert follower_resume(ResumePoint(cursor="s=2")) == {"cursor": "s=2"}
    assert follower_resume(ResumePoint(inode=3, offset=4, fingerprint="ab")) == {
        "inode": 3,
        "offset": 4,
        "fingerprint": "ab",
    }


def test_the_server_s_zone_is_read_from_date() -> None:
    assert zone_of("+0100\n") == timezone(timedelta(hours=1))
    assert zone_of("-0530") == timezone(-timedelta(hours=5, minutes=30))
    assert zone_of("") is UTC and zone_of("+2500") is UTC


def test_the_alerts_of_a_check() -> None:
    store = cast(LogStore, None)  # judging reads no store
    running = HostFollower("prod", "idp1", store)
    running._stream = cast(LineStream, object())  # running: its states are known
    running.states["redis"] = SourceState("redis", "denied", "[Errno 13] Permission denied")
    running.states["nutcracker"] = SourceState("nutcracker", "missing", "waited for")
    failing = HostFollower("prod", "idp2", store)
    failing.failed("the log follower ended (exit status 2)")
    away = HostFollower("prod", "lb", store)
    opened = [
        "log-source:idp1:oxauth",  # read again: resolves
        "log-source:idp2:redis",  # its follower does not run: unknown
        "log-source:lb:nutcracker",  # out of reach: unknown
        "log-follower:lb",  # out of reach: unknown
        "log-follower:idp1",  # runs: resolves
    ]
    findings, unknown = judge(
        ["idp1", "idp2", "lb"],
        {"idp1": running, "idp2": failing, "lb": away},
        {"lb": (100.0, "no route to host")},
        opened,
        130.0,
    )
    assert {(f.key, f.severity) for f in findings} == {
        ("log-source:idp1:redis", Severity.WARNING),
        ("log-follower:idp2", Severity.CRITICAL),
        ("host-unreachable:lb", Severity.WARNING),
    }
    assert "30 s" in next(f.message for f in findings if f.key == "host-unreachable:lb")
    assert sorted(unknown) == [
        "log-follower:lb",
        "log-source:idp2:redis",
        "log-source:lb:nutcracker",
    ]
    assert host_of("log-source:idp1:redis") == "idp1" and host_of("odd") == ""


async def test_the_cluster_s_secrets_are_held_once_watched(manager: Manager) -> None:
    """A secret sealed by another process is masked once the collector opened them."""
    value = "sealed-elsewhere-" + secrets.token_hex(8)
    await clusters.create_cluster(manager, "prod")
    async with manager.store() as store:
        cluster = await store.cluster("prod")
        sealed = store.vault.seal({"value": Secret(value)}, first=True)
        store.session.add(ClusterSecret(cluster_id=cluster.id, name="ldap", ciphertext=sealed))
    assert redact(f"x {value} y") == f"x {value} y"
    assert await hold_cluster_secrets(manager, "prod") == 1
    assert redact(f"x {value} y") == f"x {MASK} y"
