"""The log follower, run as the servers run it: ``python3 follower.py`` in a child process
on real files, its configuration on stdin, its JSON lines read from stdout."""

from __future__ import annotations

import ast
import glob
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clustermgr.components.logs import follower

FOLLOWER = Path(follower.__file__)
#: The system's python3, as a server has it (not this test run's virtual environment).
PYTHON3 = shutil.which("python3", path="/usr/bin:/bin") or "python3"

Message = dict[str, Any]


class Running:
    """One follower process and what it wrote so far."""

    def __init__(
        self,
        sources: list[dict[str, Any]],
        *,
        prefix: tuple[str, ...] = (),
        python: str = PYTHON3,
        env: dict[str, str] | None = None,
        **settings: Any,
    ) -> None:
        config: dict[str, Any] = {
            "sources": sources,
            "poll_seconds": 0.05,
            "flush_seconds": 0.3,
            "max_batch": 500,
            "max_record": 65536,
            "beat_seconds": 5,
        }
        config.update(settings)
        self.proc = subprocess.Popen(
            [*prefix, python, str(FOLLOWER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(config).encode() + b"\n")
        self.proc.stdin.flush()
        self.messages: list[Message] = []
        self.arrived: list[float] = []  # when each message was read (monotonic)
        self.incoming: queue.Queue[Message | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.incoming.put(json.loads(line))
            except ValueError:
                break  # a line cut short by a kill: the manager drops it too
        self.incoming.put(None)

    def _take(self, timeout: float) -> bool:
        try:
            message = self.incoming.get(timeout=timeout)
        except queue.Empty:
            return True
        if message is None:
            return False
        self.messages.append(message)
        self.arrived.append(time.monotonic())
        return True

    def until(self, done: Callable[[Running], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0 or not self._take(min(left, 0.1)):
                if done(self):
                    return
                raise AssertionError(f"follower did not get there; it wrote {self.messages}")

    def settle(self, seconds: float) -> None:
        """Collect what comes during ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._take(deadline - time.monotonic()):
            pass

    def batches(self, src: str = "app") -> list[Message]:
        return [m for m in self.messages if m["t"] == "batch" and m["src"] == src]

    def records(self, src: str = "app") -> list[str]:
        return [rec for batch in self.batches(src) for rec in batch["recs"]]

    def states(self, src: str = "app") -> list[str]:
        return [m["state"] for m in self.messages if m["t"] == "state" and m["src"] == src]

    def has(self, count: int, src: str = "app") -> Callable[[Running], bool]:
        return lambda running: len(running.records(src)) >= count

    def stop(self) -> int:
        """End of stdin: the follower stops; its exit status."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(10)
        self.reader.join(5)
        while self._take(0):
            pass
        return code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.reader.join(5)
        while self._take(0):
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def run(sources: list[dict[str, Any]], **kwargs: Any) -> Running:
        running = Running(sources, **kwargs)
        started.append(running)
        return running

    yield run
    for running in started:
        running.close()


def source(path: Path, resume: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": "app", "path": str(path), "start": None, "resume": resume, **extra}


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


def resume_after(path: Path, offset: int) -> dict[str, Any]:
    data = path.read_bytes()[:offset]
    return {"inode": path.stat().st_ino, "offset": offset, "fingerprint": data[-64:].hex()}


def lines(*texts: str) -> bytes:
    return "".join(text + "\n" for text in texts).encode()


def test_the_program_is_one_file_of_standard_library_python_old_servers_read() -> None:
    text = FOLLOWER.read_text()
    tree = ast.parse(text, feature_version=(3, 7))  # no walrus, no match, no newer syntax
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names
    assert "clustermgr" not in text.split('"""', 2)[2]


def old_python3() -> str | None:
    """A Python 3.7 when this machine has one (pyenv's shims only run the selected one)."""
    found = glob.glob(os.path.expanduser("~/.pyenv/versions/3.7*/bin/python3.7"))
    for python in [shutil.which("python3.7"), *found]:
        if python and subprocess.run([python, "-c", "pass"], capture_output=True).returncode == 0:
            return python
    return None


def test_python_3_7_runs_it(tmp_path: Path, start: Callable[..., Running]) -> None:
    python = old_python3()
    if python is None:
        pytest.skip("no Python 3.7 on this machine")
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log, start="^[a-z]")], python=python, flush_seconds=0.2)
    run.until(lambda r: bool(r.batches()))
    append(log, lines("one", " more of one", "two"))
    run.until(run.has(2))
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(lines("three"))
    run.until(run.has(3))
    assert run.records() == ["one\n more of one", "two", "three"]
    assert run.stop() == 0


def test_a_new_source_starts_at_the_end_and_follows_the_file_as_it_grows(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("old one", "old two"))
    run = start([source(log)])
    run.until(lambda r: bool(r.batches()))
    moved = run.batches()[0]
    size = len(lines("old one", "old two"))
    assert moved == {
        "t": "batch",
        "src": "app",
        "inode": log.stat().st_ino,
        "start": size,
        "end": size,
        "fingerprint": log.read_bytes()[-64:].hex(),
        "recs": [],
    }
    assert run.states() == ["ok"]
    append(log, lines("first"))
    run.until(run.has(1))
    append(log, lines("second", "third"))
    run.until(run.has(3))
    assert run.records() == ["first", "second", "third"]
    last = run.batches()[-1]
    assert last["end"] == log.stat().st_size
    assert last["fingerprint"] == log.read_bytes()[-64:].hex()
    assert [b["start"] for b in run.batches()[1:]] == [b["end"] for b in run.batches()[:-1]]
    assert run.stop() == 0


def test_it_goes_on_from_the_resume_point(tmp_path: Path, start: Callable[..., Running]) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("one", "two", "three", "four"))
    offset = len(lines("one", "two"))
    run = start([source(log, resume_after(log, offset))])
    run.until(run.has(2))
    run.settle(0.3)
    assert run.records() == ["three", "four"]
    assert run.batches()[0]["start"] == offset
    assert run.batches()[-1]["end"] == log.stat().st_size


def test_rotation_by_rename_finishes_the_old_file_first(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)])
    run.until(lambda r: bool(r.batches()))
    old_inode = log.stat().st_ino
    with log.open("ab", buffering=0) as writer:
        writer.write(lines("a", "b"))
        run.until(run.has(2))
        log.rename(tmp_path / "app.log.1")
        writer.write(lines("c"))  # the daemon writes on until it reopens its log
        log.write_bytes(lines("d"))
    run.until(run.has(4))
    run.settle(0.3)
    assert run.records() == ["a", "b", "c", "d"]
    new_inode = log.stat().st_ino
    by_record = [(b["inode"], rec) for b in run.batches() for rec in b["recs"]]
    assert by_record == [(old_inode, "a"), (old_inode, "b"), (old_inode, "c"), (new_inode, "d")]
    moved = [b for b in run.batches() if b["inode"] == new_inode and not b["recs"]]
    assert moved[0]["start"] == moved[0]["end"] == 0


@pytest.mark.parametrize("regrown", [False, True], ids=["shorter", "regrown"])
def test_copytruncate_reads_the_lines_the_copy_took(
    tmp_path: Path, start: Callable[..., Running], regrown: bool
) -> None:
    """Lines written after the follower's last read and before the truncation are only in
    the copy; with ``regrown`` the file has grown past the old offset again before the
    follower looks, so only the bytes before the offset tell it was truncated."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)], poll_seconds=0.5)
    run.until(lambda r: bool(r.batches()))
    append(log, lines("before the copy " + "x" * 40))
    run.until(run.has(1))
    # The follower just wrote a batch and sleeps half a second: this all happens meanwhile.
    append(log, lines("only in the copy 1", "only in the copy 2"))
    shutil.copyfile(log, tmp_path / "app.log-20260101")
    os.truncate(log, 0)
    after = [f"after {n} " + "y" * (60 if regrown else 0) for n in range(3)]
    append(log, lines(*after))
    run.until(run.has(6))
    run.settle(0.6)
    assert run.records() == [
        "before the copy " + "x" * 40,
        "only in the copy 1",
        "only in the copy 2",
        *after,
    ]
    assert run.batches()[-1]["inode"] == log.stat().st_ino
    assert run.batches()[-1]["end"] == log.stat().st_size


@pytest.mark.parametrize("rotation", ["rename", "copytruncate"])
def test_a_restart_finds_the_rotated_file_among_the_siblings(
    tmp_path: Path, start: Callable[..., Running], rotation: str
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    first = start([source(log)])
    first.until(lambda r: bool(r.batches()))
    append(log, lines("one", "two"))
    first.until(first.has(2))
    assert first.stop() == 0
    last = first.batches()[-1]
    resume = {k: last[k] for k in ("inode", "fingerprint")} | {"offset": last["end"]}
    # While no follower runs: more lines, then the rotation, then the new file's lines.
    append(log, lines("three", "four"))
    (tmp_path / "app.log.2.gz").write_bytes(b"\x1f\x8b older, compressed")
    if rotation == "rename":
        log.rename(tmp_path / "app.log.1")
    else:
        shutil.copyfile(log, tmp_path / "app.log.1")
        os.truncate(log, 0)
    append(log, lines("five", "six", "seven is long enough to pass the old offset"))
    second = start([source(log, resume)])
    second.until(second.has(5))
    second.settle(0.3)
    assert second.records() == [
        "three",
        "four",
        "five",
        "six",
        "seven is long enough to pass the old offset",
    ]
    assert second.batches()[0]["start"] == resume["offset"]
    assert second.batches()[-1]["inode"] == log.stat().st_ino


@pytest.mark.parametrize("opened", [False, True], ids=["unopened", "opened-empty"])
def test_a_rename_then_a_copytruncate_before_the_new_file_is_read_loses_nothing(
    tmp_path: Path, start: Callable[..., Running], opened: bool
) -> None:
    """logrotate renamed the log (``create``), the daemon wrote to the new file, and a
    copytruncate came before the follower read any of it: the new file's first lines are
    only in the copy. With ``opened`` the follower had opened the new file while it was
    still empty (at position 0, with no fingerprint to miss)."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)], poll_seconds=0.5)
    run.until(lambda r: bool(r.batches()))
    append(log, lines("in the first file"))
    run.until(run.has(1))
    (tmp_path / "app.log.2.gz").write_bytes(b"\x1f\x8b older, compressed")
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(b"")
    if opened:
        inode = log.stat().st_ino
        run.until(lambda r: r.batches()[-1]["inode"] == inode)
    # The follower just wrote a batch and sleeps half a second: this all happens meanwhile.
    append(log, lines("only in the copy 1", "only in the copy 2"))
    shutil.copyfile(log, tmp_path / "app.log-20260102")
    os.truncate(log, 0)
    append(log, lines("after the copy"))
    run.until(run.has(4))
    run.settle(0.6)
    assert run.records() == [
        "in the first file",
        "only in the copy 1",
        "only in the copy 2",
        "after the copy",
    ]
    assert run.batches()[-1]["inode"] == log.stat().st_ino
    assert run.batches()[-1]["end"] == log.stat().st_size


def test_a_restart_after_a_rename_and_a_copytruncate_reads_the_copy_between(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """While no follower ran: more lines, a rotation by rename, lines in the new file, then
    a copytruncate of that file. The path no longer names the resume point's inode; the
    follower finishes that file, then the copy, then the path's file."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    first = start([source(log)])
    first.until(lambda r: bool(r.batches()))
    append(log, lines("one", "two"))
    first.until(first.has(2))
    assert first.stop() == 0
    last = first.batches()[-1]
    resume = {k: last[k] for k in ("inode", "fingerprint")} | {"offset": last["end"]}
    append(log, lines("three"))
    log.rename(tmp_path / "app.log.1")
    append(log, lines("four", "five"))
    shutil.copyfile(log, tmp_path / "app.log.0")
    os.truncate(log, 0)
    append(log, lines("six"))
    (tmp_path / "app.log.2.gz").write_bytes(b"\x1f\x8b compressed after the copy")
    second = start([source(log, resume)])
    second.until(second.has(4))
    second.settle(0.3)
    assert second.records() == ["three", "four", "five", "six"]
    assert second.batches()[0]["start"] == resume["offset"]
    assert second.batches()[-1]["inode"] == log.stat().st_ino
    assert second.batches()[-1]["end"] == log.stat().st_size


def test_multiline_records_by_their_start_line(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "oxauth.log"
    log.write_bytes(b"")
    run = start([source(log, start=r"^\d{4}-\d{2}-\d{2} ")], flush_seconds=0.4)
    run.until(lambda r: bool(r.batches()))
    trace = [
        "2026-12-06 10:00:00 ERROR request failed",
        "java.lang.IllegalStateException: no session",
        "\tat org.gluu.oxauth.Session.get(Session.java:42)",
        "\tat org.gluu.oxauth.Auth.run(Auth.java:7)",
    ]
    append(log, lines(*trace, "2026-12-06 10:00:01 INFO next one"))
    run.until(run.has(1))
    first_batches = len(run.batches())
    first_at = run.arrived[-1]
    run.until(run.has(2))
    assert run.records() == ["\n".join(trace), "2026-12-06 10:00:01 INFO next one"]
    # The last record had no start line after it: it went out once the file was quiet.
    assert len(run.batches()) == first_batches + 1
    assert run.arrived[-1] - first_at >= 0.3
    assert run.batches()[-1]["end"] == log.stat().st_size
    trace_end = len(lines(*trace))
    assert next(b["end"] for b in run.batches() if b["recs"]) == trace_end


def test_a_partial_last_line_waits_for_its_newline(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)], flush_seconds=0.1)
    run.until(lambda r: bool(r.batches()))
    append(log, b"half a li")
    run.settle(0.5)
    assert run.records() == []
    append(log, b"ne\nand more")
    run.until(run.has(1))
    run.settle(0.3)
    assert run.records() == ["half a line"]
    assert run.batches()[-1]["end"] == len(b"half a line\n")


def test_a_huge_line_is_cut_and_the_next_record_is_whole(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)])
    run.until(lambda r: bool(r.batches()))
    append(log, b"A" * 200_000 + b"\n" + lines("next"))
    run.until(run.has(2))
    assert run.records() == ["A" * 65536 + f" [... cut {200_000 - 65536} bytes]", "next"]
    assert run.batches()[-1]["end"] == 200_000 + 1 + len(b"next\n")


def test_binary_garbage_is_escaped(tmp_path: Path, start: Callable[..., Running]) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)])
    run.until(lambda r: bool(r.batches()))
    append(log, b"bad \xff\xfe utf-8, a nul \x00 and \xc3\xa9t\xc3\xa9\n" + lines("fine"))
    run.until(run.has(2))
    assert run.records() == ["bad \\xff\\xfe utf-8, a nul \\x00 and \u00e9t\u00e9", "fine"]
    assert run.batches()[-1]["end"] == log.stat().st_size


def test_a_removed_file_is_read_to_its_end_and_let_go(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = start([source(log)])
    run.until(lambda r: bool(r.batches()))
    with log.open("ab", buffering=0) as writer:
        writer.write(lines("a"))
        run.until(run.has(1))
        log.unlink()
        writer.write(lines("b"))  # still written by the daemon that holds it open
        run.until(lambda r: r.states() == ["ok", "missing"])
    held = [os.readlink(fd) for fd in Path(f"/proc/{run.proc.pid}/fd").iterdir()]
    assert not [name for name in held if name.startswith(str(log))]
    log.write_bytes(lines("c"))
    run.until(run.has(3))
    assert run.records() == ["a", "b", "c"]
    assert run.states() == ["ok", "missing", "ok"]


def test_a_missing_file_is_waited_for_then_read_from_its_start(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    log = tmp_path / "app.log"
    run = start([source(log)])
    run.until(lambda r: r.states() == ["missing"])
    run.settle(0.4)
    assert run.states() == ["missing"]  # said once, not every poll
    log.write_bytes(lines("born", "grown"))
    run.until(run.has(2))
    assert run.records() == ["born", "grown"]
    assert run.states() == ["missing", "ok"]
    assert run.batches()[0]["start"] == 0


def test_an_unreadable_file_is_reported_once_and_read_when_it_may_be(
    start: Callable[..., Running],
) -> None:
    """Tests run as root, who reads anything: the follower runs as nobody here."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        log = Path(folder) / "app.log"
        log.write_bytes(lines("secret one", "secret two"))
        os.chmod(log, 0)
        nobody = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
        run = start([source(log, resume_after(log, 0))], prefix=nobody)
        run.until(lambda r: r.states() == ["denied"])
        run.settle(0.4)
        assert run.states() == ["denied"]
        denied = [m for m in run.messages if m["t"] == "state"]
        assert "Permission denied" in denied[0]["detail"]
        assert run.records() == []
        os.chmod(log, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        run.until(run.has(2))
        assert run.records() == ["secret one", "secret two"]
        assert run.states() == ["denied", "ok"]
        assert run.stop() == 0


def test_beats_and_a_clean_stop_at_the_end_of_stdin(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    run = start([source(tmp_path / "app.log")], beat_seconds=0.1)
    run.until(lambda r: sum(m["t"] == "beat" for m in r.messages) >= 3)
    beats = [m["at"] for m in run.messages if m["t"] == "beat"]
    assert beats == sorted(beats) and abs(beats[-1] - time.time()) < 5
    began = time.monotonic()
    assert run.stop() == 0
    assert time.monotonic() - began < 2


def test_an_idle_file_costs_one_stat_a_poll(tmp_path: Path, start: Callable[..., Running]) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    log = tmp_path / "idle.log"
    log.write_bytes(lines("already there"))
    trace = tmp_path / "trace"
    prefix = (strace, "-f", "-qq", "-e", "trace=%file,%desc", "-o", str(trace))
    run = start([source(log)], prefix=prefix, poll_seconds=0.1)
    run.until(lambda r: bool(r.batches()), timeout=30)
    run.settle(1.0)
    assert run.stop() == 0
    traced = trace.read_text().splitlines()
    calls = [line for line in traced if str(log) in line]
    # "PID syscall(args...) = result": the names, not the paths (which may hold "open").
    stats = [line for line in calls if "stat" in _syscall(line)]
    opened = [line for line in calls if "open" in _syscall(line)]
    assert 3 <= len(stats) <= 15, calls  # about ten polls in that second
    assert len(opened) == 1, calls
    # Read once where it starts (the last line's end and the fingerprint), then never.
    after_open = traced[traced.index(opened[0]) :]
    assert sum("pread64(" in line for line in after_open) == 2, after_open
    assert run.records() == []


def test_a_bad_configuration_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [PYTHON3, str(FOLLOWER)], input=b'{"sources": [{"id": "x"}]}\n', capture_output=True
    )
    assert done.returncode == 2
    assert b"source x has no path" in done.stderr
    assert done.stdout == b""


STAND_IN = """#!/usr/bin/env python3
import json, os, sys, time
args = sys.argv[1:]
entries = os.environ["JOURNAL_ENTRIES"]
after = args[args.index("--after-cursor") + 1] if "--after-cursor" in args else None
def read():
    with open(entries) as f:
        return [line for line in f if line.strip()]
seen = read()
with open(os.environ["JOURNAL_ARGS"], "a") as out:  # once read: the test waits for it
    out.write(json.dumps(args) + "\\n")
if after is not None:
    cursors = [json.loads(line)["__CURSOR"] for line in seen]
    todo = seen[cursors.index(after) + 1:]
else:
    n = args[args.index("-n") + 1] if "-n" in args else "10"
    todo = seen if n == "all" else seen[len(seen) - int(n):] if int(n) else []
sys.stdout.write("".join(todo))
sys.stdout.flush()
fail = entries + ".fail"
if os.path.exists(fail):
    os.remove(fail)
    sys.stderr.write("Failed to iterate through journal: Bad message\\n")
    sys.exit(1)
while "--follow" in args:
    time.sleep(0.05)
    now = read()
    sys.stdout.write("".join(now[len(seen):]))
    sys.stdout.flush()
    seen = now
"""


def journal_entry(n: int) -> str:
    entry = {"__CURSOR": f"s=abc;i={n}", "MESSAGE": f"entry {n}", "_SYSTEMD_UNIT": "x.service"}
    return json.dumps(entry) + "\n"


def stand_in_journal(tmp_path: Path) -> dict[str, str]:
    """The environment that puts the stand-in ``journalctl`` first on PATH; it reads the
    entries from ``tmp_path/entries`` and notes its arguments in ``tmp_path/args``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stand_in = bindir / "journalctl"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    return os.environ | {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "JOURNAL_ENTRIES": str(tmp_path / "entries"),
        "JOURNAL_ARGS": str(tmp_path / "args"),
    }


def test_the_journal_is_read_with_its_cursor(tmp_path: Path, start: Callable[..., Running]) -> None:
    """journald does not run on the test hosts (no systemd), so a stand-in ``journalctl``,
    first on PATH, plays it: it prints ``-o json`` lines with ``__CURSOR``, honours
    ``--after-cursor`` and ``-n``, and follows a file of entries. With no cursor the
    follower learns the last entry's and gives it out before it follows."""
    entries = tmp_path / "entries"
    entries.write_text("".join(journal_entry(n) for n in range(1, 4)))
    args_file = tmp_path / "args"
    env = stand_in_journal(tmp_path)
    spec = {"id": "journal", "journal": True, "resume": None}
    first = start([spec], env=env)
    first.until(lambda r: r.states("journal") == ["ok"])
    with entries.open("a") as out:
        out.write(journal_entry(4))
    first.until(first.has(1, "journal"))
    assert first.records("journal") == [journal_entry(4).rstrip("\n")]
    assert [b["cursor"] for b in first.batches("journal")] == ["s=abc;i=3", "s=abc;i=4"]
    assert first.stop() == 0
    with entries.open("a") as out:
        out.write(journal_entry(5) + journal_entry(6))
    second = start([{**spec, "resume": {"cursor": "s=abc;i=4"}}], env=env)
    second.until(second.has(2, "journal"))
    second.settle(0.3)
    assert [json.loads(rec)["MESSAGE"] for rec in second.records("journal")] == [
        "entry 5",
        "entry 6",
    ]
    assert second.batches("journal")[-1]["cursor"] == "s=abc;i=6"
    assert second.stop() == 0
    called = [json.loads(line) for line in args_file.read_text().splitlines()]
    assert called == [
        ["-o", "json", "-n", "1", "--no-pager"],
        ["-o", "json", "--follow", "--no-pager", "--after-cursor", "s=abc;i=3"],
        ["-o", "json", "--follow", "--no-pager", "--after-cursor", "s=abc;i=4"],
    ]


def test_with_no_cursor_a_restart_before_the_next_entry_loses_nothing(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """With the stand-in ``journalctl`` (no journald on the test hosts). The follower
    learns the journal's cursor before it follows and gives it out at once, so the
    entries written while it is restarted are read by the next one."""
    entries = tmp_path / "entries"
    entries.write_text(journal_entry(1) + journal_entry(2))
    env = stand_in_journal(tmp_path)
    spec = {"id": "journal", "journal": True, "resume": None}
    first = start([spec], env=env)
    first.until(lambda r: r.states("journal") == ["ok"])
    first.settle(0.3)
    assert first.stop() == 0
    assert first.batches("journal") == [
        {"t": "batch", "src": "journal", "cursor": "s=abc;i=2", "recs": []}
    ]
    with entries.open("a") as out:
        out.write(journal_entry(3) + journal_entry(4))
    second = start([{**spec, "resume": {"cursor": "s=abc;i=2"}}], env=env)
    second.until(second.has(2, "journal"))
    second.settle(0.3)
    assert [json.loads(rec)["MESSAGE"] for rec in second.records("journal")] == [
        "entry 3",
        "entry 4",
    ]


def test_an_empty_journal_is_followed_from_its_start(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """With the stand-in ``journalctl``: an empty journal has no cursor to learn, so every
    entry it gets is new, even one written before ``--follow`` began."""
    entries = tmp_path / "entries"
    entries.write_text("")
    env = stand_in_journal(tmp_path)
    run = start([{"id": "journal", "journal": True, "resume": None}], env=env)
    run.until(lambda r: r.states("journal") == ["ok"])
    with entries.open("a") as out:
        out.write(journal_entry(1))
    run.until(run.has(1, "journal"))
    assert run.records("journal") == [journal_entry(1).rstrip("\n")]
    assert run.stop() == 0
    called = [json.loads(line) for line in (tmp_path / "args").read_text().splitlines()]
    assert called == [
        ["-o", "json", "-n", "1", "--no-pager"],
        ["-o", "json", "--follow", "--no-pager", "-n", "all"],
    ]


def test_a_journalctl_that_fails_is_an_error_and_started_again_from_the_cursor(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """With the stand-in ``journalctl`` (no journald on the test hosts): it prints the
    entries after the cursor, then fails once; the follower says why and starts it again
    a few seconds later from the last entry it gave out."""
    entries = tmp_path / "entries"
    entries.write_text(journal_entry(1) + journal_entry(2))
    (tmp_path / "entries.fail").write_text("")
    env = stand_in_journal(tmp_path)
    spec = {"id": "journal", "journal": True, "resume": {"cursor": "s=abc;i=1"}}
    run = start([spec], env=env)
    run.until(lambda r: "error" in r.states("journal"))
    assert run.records("journal") == [journal_entry(2).rstrip("\n")]
    error = [m for m in run.messages if m["t"] == "state" and m["state"] == "error"]
    assert error[0]["detail"] == (
        "journalctl exited 1: Failed to iterate through journal: Bad message"
    )
    run.until(lambda r: r.states("journal")[-1:] == ["ok"], timeout=20)
    with entries.open("a") as out:
        out.write(journal_entry(3))
    run.until(run.has(2, "journal"))
    assert run.batches("journal")[-1]["cursor"] == "s=abc;i=3"
    called = [json.loads(line) for line in (tmp_path / "args").read_text().splitlines()]
    assert [args[-1] for args in called] == ["s=abc;i=1", "s=abc;i=2"]
    assert run.stop() == 0


def test_no_journalctl_is_a_missing_source(tmp_path: Path, start: Callable[..., Running]) -> None:
    env = os.environ | {"PATH": str(tmp_path)}
    run = start([{"id": "journal", "journal": True, "resume": None}], env=env)
    run.until(lambda r: r.states("journal") == ["missing"])
    run.settle(0.3)
    assert run.states("journal") == ["missing"]
    assert run.stop() == 0


NUMBERED = re.compile(r"^line (\d{5}) [a-z]*$")


@pytest.mark.parametrize("copied_at", [7000, 3050], ids=["apart", "close"])
def test_stress_rotations_and_a_restart_lose_and_repeat_nothing(
    tmp_path: Path, start: Callable[..., Running], copied_at: int
) -> None:
    """A writer appends 10,000 numbered lines; the file is rotated by rename once and by
    copytruncate once (``close``: about 10 ms after the rename, often before the follower
    has read the new file), and the follower is killed and started again from the last
    batch's resume point, as the manager does. Every number arrives exactly once, in
    order."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    total = 10_000
    written = [0]

    def write() -> None:
        out = log.open("ab", buffering=0)
        for n in range(1, total + 1):
            out.write(f"line {n:05d} {'abcdefghij'[: n % 11]}\n".encode())
            written[0] = n
            if n == 3000:
                out.close()
                log.rename(tmp_path / "app.log.1")
                out = log.open("ab", buffering=0)
            if n == copied_at:
                shutil.copyfile(log, tmp_path / "app.log-copy")
                os.truncate(log, 0)
            if n % 50 == 0:
                time.sleep(0.01)
        out.close()

    applied: list[str] = []

    def apply(run: Running) -> dict[str, Any]:
        """The manager's side: each batch's records, then its resume point."""
        point: dict[str, Any] = {}
        for batch in run.batches():
            applied.extend(batch["recs"])
            point = {"inode": batch["inode"], "offset": batch["end"]}
            point["fingerprint"] = batch["fingerprint"]
        return point

    first = start([source(log)], max_batch=100)
    first.until(lambda r: bool(r.batches()))
    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written[0] < 5000:
            time.sleep(0.01)
        first.kill()
        second = start([source(log, apply(first))], max_batch=100)
        second.until(lambda r: len(applied) + len(r.records()) >= total, timeout=60)
    finally:
        writer.join()
    second.settle(0.5)
    assert second.stop() == 0
    apply(second)
    numbers = []
    for rec in applied:
        match = NUMBERED.match(rec)
        assert match, rec
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, total + 1))


def _syscall(line: str) -> str:
    """The system call an strace line (``PID name(args) = result``) names."""
    return line.split(None, 1)[-1].split("(", 1)[0]
