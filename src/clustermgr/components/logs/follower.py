#!/usr/bin/env python3
"""The log follower: runs on a server, reads its log files and journal, and writes the new
records on stdout as JSON lines for the manager.

It is shipped to the server as this one file and run as ``python3 follower.py``: standard
library only, and syntax an old python3 (3.7) still reads. The manager writes one JSON
line of configuration on stdin and keeps stdin open; end of input stops the follower
(exit status 0). The follower keeps nothing on disk: each batch it writes carries the
point to resume from, which the manager stores with the batch's records.

Input (one line)::

    {"sources": [{"id": "syslog", "path": "/var/log/syslog", "start": null,
                  "resume": {"inode": 12, "offset": 345, "fingerprint": "hex"}},
                 {"id": "journal", "journal": true, "resume": {"cursor": "s=..."}}],
     "poll_seconds": 0.2, "flush_seconds": 0.3, "max_batch": 500,
     "max_record": 65536, "beat_seconds": 5}

Output, one JSON object a line:

- ``{"t": "batch", "src", "inode", "start", "end", "fingerprint", "recs"}``: a file's
  records read between byte offsets ``start`` and ``end`` of ``inode``; ``end`` and
  ``fingerprint`` (hex of up to 64 bytes before ``end``) are the new resume point. A
  batch without records only moves the resume point (to a new file, or to the end of a
  file followed for the first time).
- ``{"t": "batch", "src", "cursor", "recs"}``: journal entries (``journalctl -o json``
  lines), ``cursor`` the last one's. Started with no cursor, the follower first learns
  the journal's last entry's cursor and gives it out with no records, then follows
  after it (an empty journal: from its start).
- ``{"t": "state", "src", "state": "ok"|"missing"|"denied"|"error", "detail"}`` when a
  source's state changes.
- ``{"t": "beat", "at": EPOCH}`` every ``beat_seconds``.

A file is followed by inode and offset. Rotation by rename (the path names another
inode): the old file, still open, is read to its end, then the new one from 0.
Copytruncate (the file got shorter than the offset, or the bytes before the offset
changed): the copy is the sibling ``PATH.*`` or ``PATH-*`` whose bytes before the offset
equal the fingerprint; it is read from the offset to its end, then the file from 0.
Started with a resume point whose inode the path no longer names, the follower looks
for that inode among the siblings and finishes it first. The file the path names after
a rename may itself be copytruncated before the follower has read any of it (two
rotations in a moment, or both while no follower ran): before reading it from 0, the
follower reads the copies of it made since the finished file was last written (plain
siblings, not compressed, not read yet, not starting as the file now does), oldest first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from typing import IO, Any

FINGERPRINT = 64
CHUNK = 65536
#: At most this many bytes are read from one source in one poll (the others wait less).
READ_PER_POLL = 4 * 1024 * 1024
#: How far back from the end a new source looks for the last line's end.
START_LOOKBACK = 65536
#: How long a journal reader waits before starting ``journalctl`` again.
JOURNAL_RETRY = 5.0
#: How long learning the journal's current cursor may take (once, at the journal's start;
#: the other sources wait meanwhile, so it is kept short and tried again later).
JOURNAL_LOOKUP = 10.0
#: How compressed files start (gzip, bzip2, xz, zstd): a rotated file that is no copy to read.
COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


class Output:
    """Stdout, one JSON object a line, flushed after each (shared by the sources)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.lock:
            self.stream.write(line.encode("utf-8"))
            self.stream.flush()

    def state(self, src: str, state: str, detail: str) -> None:
        self.send({"t": "state", "src": src, "state": state, "detail": detail})


def decode(data: bytes) -> str:
    """Text from any bytes: invalid UTF-8 and NUL (no database keeps it) are escaped."""
    return data.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def tail_of(before: bytes, data: bytes, upto: int) -> bytes:
    """The last FINGERPRINT bytes of ``before`` followed by ``data[:upto]``."""
    if upto >= FINGERPRINT:
        return data[upto - FINGERPRINT : upto]
    return (before + data[:upto])[-FINGERPRINT:]


def read_at(fd: int, offset: int, size: int) -> bytes:
    return os.pread(fd, size, offset) if size > 0 else b""


def has_prefix_tail(fd: int, offset: int, tail: bytes) -> bool:
    """True when the file is at least ``offset`` long and ``tail`` ends there."""
    if os.fstat(fd).st_size < offset:
        return False
    return read_at(fd, offset - len(tail), len(tail)) == tail


def siblings(path: str) -> list[str]:
    """The rotated copies of ``path`` in its directory, newest first."""
    folder, base = os.path.split(path)
    found: list[tuple[float, str]] = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    for name in names:
        if name != base and (name.startswith(base + ".") or name.startswith(base + "-")):
            full = os.path.join(folder, name)
            try:
                found.append((os.stat(full).st_mtime, full))
            except OSError:
                continue
    found.sort(reverse=True)
    return [full for _, full in found]


def open_sibling(path: str, inode: int | None, offset: int, tail: bytes) -> int | None:
    """An open descriptor of the sibling of ``path`` that is ``inode`` (when given), or
    whose bytes before ``offset`` are ``tail`` (a copy made by copytruncate)."""
    for full in siblings(path):
        try:
            fd = os.open(full, os.O_RDONLY)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if inode is not None and st.st_ino == inode:
                return fd
            if inode is None and offset > 0 and tail and has_prefix_tail(fd, offset, tail):
                return fd
        except OSError:
            pass
        os.close(fd)
    return None


def unread_copy(
    path: str, since: float, current: os.stat_result, head: bytes, skip: set[int]
) -> int | None:
    """An open descriptor of the oldest copy of ``path`` that copytruncate made at or after
    ``since`` (a file-system time) of lines the follower has not read; None when there is
    none. ``current`` is the path's file now and ``head`` its first bytes. A candidate is
    a sibling that is not compressed, not one of the inodes in ``skip`` (read already),
    written no later than the path's file last changed (the truncation comes after the
    copy), and that does not start as the path's file does now (then it is a copy of
    lines still there)."""
    for full in reversed(siblings(path)):  # oldest first: the lines in their order
        try:
            fd = os.open(full, os.O_RDONLY)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if st.st_ino not in skip and since <= st.st_mtime <= current.st_ctime:
                start = read_at(fd, 0, FINGERPRINT)
                same = min(len(start), len(head))
                if start and not start.startswith(COMPRESSED) and start[:same] != head[:same]:
                    return fd
        except OSError:
            pass
        os.close(fd)
    return None


class FileSource:
    """One log file followed by inode and offset."""

    def __init__(self, spec: dict[str, Any], config: dict[str, Any], out: Output) -> None:
        self.id = str(spec["id"])
        self.path = str(spec["path"])
        start = spec.get("start")
        self.start = re.compile(start) if start else None
        self.resume: dict[str, Any] | None = spec.get("resume")
        self.out = out
        self.flush_seconds = float(config.get("flush_seconds", 0.3))
        self.max_batch = max(1, int(config.get("max_batch", 500)))
        self.max_record = max(1, int(config.get("max_record", 65536)))
        self.state = ""
        self.started = False
        self.at_end = False  # open the path at its end (a source followed for the first time)
        self.fd: int | None = None
        self.inode = 0
        self.finishing = False  # the open file is no longer the path's: read it to its end
        self.pos = 0  # bytes read up to here
        self.raw_tail = b""  # the FINGERPRINT bytes before pos
        self.committed = 0  # the end of the last record given out
        self.committed_tail = b""
        self.last_data = 0.0
        # While the path's file has not been read at all (position 0) after a rotated file
        # or a copy was finished: the file-system time since which a copytruncate of it may
        # have left its first lines only in a copy, and the inodes read since.
        self.since: float | None = None
        self.read_inodes: set[int] = set()
        # The line being read (no newline yet): its first bytes and its whole length.
        self.line = bytearray()
        self.line_len = 0
        # The record being gathered (multi-line records wait for the next start line).
        self.rec: bytearray | None = None
        self.rec_cut = 0
        self.rec_end = 0
        self.rec_tail = b""
        # The batch being filled.
        self.recs: list[str] = []
        self.batch_start = 0

    # -- states and output -------------------------------------------------------------

    def set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            self.state = state
            self.out.state(self.id, state, detail)

    def send_batch(self, force: bool = False) -> None:
        """Write the records gathered so far (or, with ``force``, the resume point)."""
        if not self.recs and not force:
            return
        self.out.send(
            {
                "t": "batch",
                "src": self.id,
                "inode": self.inode,
                "start": self.batch_start,
                "end": self.committed,
                "fingerprint": self.committed_tail.hex(),
                "recs": self.recs,
            }
        )
        self.recs = []
        self.batch_start = self.committed

    # -- records -----------------------------------------------------------------------

    def give(self, data: bytearray, cut: int, end: int, tail: bytes) -> None:
        text = decode(bytes(data))
        if cut:
            text += f" [... cut {cut} bytes]"
        if not self.recs:
            self.batch_start = self.committed
        self.recs.append(text)
        self.committed = end
        self.committed_tail = tail
        if len(self.recs) >= self.max_batch:
            self.send_batch()

    def close_record(self) -> None:
        if self.rec is not None:
            self.give(self.rec, self.rec_cut, self.rec_end, self.rec_tail)
            self.rec = None

    def add_line(self, content: bytes, dropped: int, end: int, tail: bytes) -> None:
        """A complete line (without its newline): ``dropped`` bytes of it were not kept."""
        starts = self.start is not None and self.start.search(decode(content[:4096]))
        if starts and self.rec is not None:
            self.close_record()
        if self.rec is None:
            self.rec = bytearray()
            self.rec_cut = 0
            part = content
        else:
            part = b"\n" + content
        room = self.max_record - len(self.rec)
        if len(part) <= room:
            self.rec += part
        else:
            self.rec += part[: max(room, 0)]
            self.rec_cut += len(part) - max(room, 0)
        self.rec_cut += dropped
        self.rec_end = end
        self.rec_tail = tail
        if self.start is None:
            self.close_record()

    def take_line_bytes(self, data: bytes) -> None:
        room = self.max_record + 1 - len(self.line)
        if room > 0:
            self.line += data[:room]
        self.line_len += len(data)

    def end_line(self, newline: bool, end: int, tail: bytes) -> None:
        length = self.line_len - 1 if newline else self.line_len
        content = bytes(self.line[:length])
        self.line = bytearray()
        self.line_len = 0
        self.add_line(content, length - len(content), end, tail)

    def feed(self, data: bytes) -> None:
        """Bytes read at ``pos``."""
        base = self.pos
        before = self.raw_tail
        i = 0
        while i < len(data):
            j = data.find(b"\n", i)
            if j < 0:
                self.take_line_bytes(data[i:])
                break
            self.take_line_bytes(data[i : j + 1])
            self.end_line(True, base + j + 1, tail_of(before, data, j + 1))
            i = j + 1
        self.pos = base + len(data)
        self.raw_tail = tail_of(before, data, len(data))

    def forget_unfinished(self) -> None:
        """Drop what was read after the last record given out (it is read again)."""
        self.line = bytearray()
        self.line_len = 0
        self.rec = None
        self.pos = self.committed
        self.raw_tail = self.committed_tail

    # -- files -------------------------------------------------------------------------

    def use(self, fd: int, offset: int, tail: bytes, finishing: bool, moved: bool) -> None:
        """Follow ``fd`` from ``offset``; ``moved``: tell the manager the new resume point."""
        self.send_batch()
        self.close()
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.finishing = finishing
        self.pos = self.committed = self.batch_start = offset
        self.raw_tail = self.committed_tail = tail
        self.line = bytearray()
        self.line_len = 0
        self.rec = None
        self.last_data = time.monotonic()
        self.set_state("ok", self.path)
        if moved:
            self.send_batch(force=True)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def drain(self, limit: int) -> int:
        """Read the open file on from ``pos``; the number of bytes read."""
        assert self.fd is not None
        got = 0
        while got < limit:
            data = os.pread(self.fd, CHUNK, self.pos)
            if not data:
                break
            got += len(data)
            self.feed(data)
        if got:
            self.last_data = time.monotonic()
        return got

    def finish(self) -> None:
        """The open file is complete: its last line and record end with it."""
        if self.line_len:
            self.end_line(False, self.pos, self.raw_tail)
        self.close_record()
        self.send_batch()
        assert self.fd is not None
        # Whatever the path's file held before a copytruncate the follower did not see is
        # in a copy made after this file was last written (see copy_first).
        if self.since is None:
            self.since = os.fstat(self.fd).st_mtime
        self.read_inodes.add(self.inode)
        self.close()
        self.finishing = False

    def begin(self) -> None:
        """First poll: go on from the resume point, wherever the file went meanwhile."""
        self.started = True
        resume = self.resume
        if not resume or resume.get("inode") is None:
            self.at_end = True
            return
        inode = int(resume["inode"])
        offset = int(resume.get("offset") or 0)
        tail = bytes.fromhex(str(resume.get("fingerprint") or ""))
        try:
            fd: int | None = os.open(self.path, os.O_RDONLY)
        except OSError:
            fd = None
        if fd is not None:
            if os.fstat(fd).st_ino == inode:
                if has_prefix_tail(fd, offset, tail):
                    self.use(fd, offset, tail, False, False)
                    return
                os.close(fd)
                copy = open_sibling(self.path, None, offset, tail)
                if copy is not None:
                    self.use(copy, offset, tail, True, False)
                return
            os.close(fd)
        old = open_sibling(self.path, inode, offset, tail)
        if old is None:
            old = open_sibling(self.path, None, offset, tail)
        if old is not None:
            self.use(old, offset, tail, True, False)

    def open_path(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        offset = 0
        tail = b""
        if self.at_end:
            size = os.fstat(fd).st_size
            back = read_at(fd, max(0, size - START_LOOKBACK), min(size, START_LOOKBACK))
            cut = back.rfind(b"\n")
            offset = size - len(back) + cut + 1 if cut >= 0 else size
            tail = read_at(fd, max(0, offset - FINGERPRINT), min(offset, FINGERPRINT))
            self.at_end = False
        self.use(fd, offset, tail, False, True)

    def copy_first(self, size: int) -> bool:
        """About to read the path's file from its start after a rotated file: when it was
        copytruncated before the follower read any of it (renamed and then copytruncated
        in a moment, or both while no follower ran), its first lines are only in the copy.
        Read that copy from its start first; True when it is the open file now. ``size``:
        the path's size this poll (an empty new file costs nothing more)."""
        if self.since is None or self.pos != 0 or self.fd is None or self.finishing:
            return False
        if size == 0:
            return False
        current = os.fstat(self.fd)
        head = read_at(self.fd, 0, FINGERPRINT)
        skip = self.read_inodes | {current.st_ino}
        copy = unread_copy(self.path, self.since, current, head, skip)
        if copy is None:
            return False
        self.use(copy, 0, b"", True, True)
        return True

    def read_some(self) -> None:
        """Read the path's file on; once some of it is read, a copytruncate shows in its
        bytes before the position (the fingerprint) and no copy is looked for by time."""
        self.drain(READ_PER_POLL)
        if self.pos > 0 and not self.finishing:
            self.since = None
            self.read_inodes = set()

    def truncated(self) -> None:
        """The file was cut short under us (copytruncate): read the rest from the copy."""
        self.send_batch()
        self.forget_unfinished()
        copy = open_sibling(self.path, None, self.committed, self.committed_tail)
        if copy is not None:
            self.use(copy, self.committed, self.committed_tail, True, False)
        else:
            assert self.fd is not None
            self.use(os.dup(self.fd), 0, b"", False, True)

    def poll(self, now: float) -> None:
        try:
            self.poll_once(now)
        except Exception as exc:  # one source's trouble never stops the others
            self.set_state("error", f"{type(exc).__name__}: {exc}")
        else:
            if self.fd is not None:
                self.set_state("ok", self.path)
        self.send_batch()

    def poll_once(self, now: float) -> None:
        if not self.started:
            self.begin()
        if self.fd is not None and self.finishing:
            if self.drain(READ_PER_POLL):
                return
            self.finish()
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            if self.fd is not None and self.drain(READ_PER_POLL):
                return  # renamed or removed: what is still written to it counts
            if self.fd is not None:
                self.finish()  # quiet now: let it go (a removed file's space is freed)
            self.at_end = False  # a file that appears is read from its start
            self.set_state("missing", self.path)
            return
        except PermissionError as exc:
            if self.fd is None:
                self.set_state("denied", str(exc))
            return
        if self.fd is None:
            try:
                self.open_path()
            except PermissionError as exc:
                self.set_state("denied", str(exc))
                return
        elif st.st_ino != self.inode:
            self.finishing = True
            if not self.drain(READ_PER_POLL):
                self.finish()
                self.open_path()
            return
        elif st.st_size < self.pos or (
            st.st_size > self.pos
            and self.pos > 0
            and not has_prefix_tail(self.fd, self.pos, self.raw_tail)
        ):
            self.truncated()
        if self.copy_first(st.st_size):
            return
        if self.finishing or st.st_size > self.pos:
            self.read_some()
        self.flush_idle(now)

    def flush_idle(self, now: float) -> None:
        """A multi-line record ends when nothing came for ``flush_seconds``."""
        if self.rec is not None and now - self.last_data >= self.flush_seconds:
            self.close_record()

    def stop(self) -> None:
        self.close()


class JournalSource:
    """The systemd journal, read by ``journalctl -o json --follow`` in a child process."""

    def __init__(self, spec: dict[str, Any], config: dict[str, Any], out: Output) -> None:
        self.id = str(spec["id"])
        resume = spec.get("resume") or {}
        self.cursor: str | None = resume.get("cursor")
        self.out = out
        self.max_batch = max(1, int(config.get("max_batch", 500)))
        self.state = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        self.lines: list[bytes] = []
        self.lock = threading.Lock()
        self.note = ""
        self.next_try = 0.0
        # No cursor and the journal had no entry when looked at: follow it from its start.
        self.from_start = False

    def set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            self.state = state
            self.out.state(self.id, state, detail)

    def command(self) -> list[str]:
        cmd = ["journalctl", "-o", "json", "--follow", "--no-pager"]
        if self.cursor:
            return [*cmd, "--after-cursor", self.cursor]
        return [*cmd, "-n", "all" if self.from_start else "0"]

    def learn_cursor(self) -> bool:
        """With no cursor yet: the journal's last entry's cursor, given out as a batch
        without records, so that a follower started again before any new entry goes on
        from there (following from ``-n 0`` only would skip the entries in between).
        False when ``journalctl`` could not tell (said as the source's state)."""
        try:
            done = subprocess.run(
                ["journalctl", "-o", "json", "-n", "1", "--no-pager"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=JOURNAL_LOOKUP,
            )
        except FileNotFoundError:
            self.set_state("missing", "journalctl not found")
            return False
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.set_state("error", str(exc))
            return False
        if done.returncode != 0:
            said = decode(done.stderr).strip()
            self.set_state("error", f"journalctl exited {done.returncode}: {said}")
            return False
        cursor = None
        for raw in done.stdout.splitlines():
            try:
                entry = json.loads(decode(raw))
            except ValueError:
                continue
            if isinstance(entry, dict) and "__CURSOR" in entry:
                cursor = str(entry["__CURSOR"])
        if cursor is None:
            self.from_start = True  # an empty journal: every entry to come is new
        else:
            self.cursor = cursor
            self.send([])
        return True

    def launch(self, now: float) -> None:
        self.next_try = now + JOURNAL_RETRY
        if not self.cursor and not self.learn_cursor():
            return
        try:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except FileNotFoundError:
            self.set_state("missing", "journalctl not found")
            return
        except OSError as exc:
            self.set_state("error", str(exc))
            return
        self.reader = threading.Thread(target=self.read, args=(self.proc,), daemon=True)
        self.reader.start()

    def read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self.lock:
                self.lines.append(line)

    def poll(self, now: float) -> None:
        try:
            self.poll_once(now)
        except Exception as exc:
            self.set_state("error", f"{type(exc).__name__}: {exc}")

    def poll_once(self, now: float) -> None:
        if self.proc is None:
            if now >= self.next_try:
                self.launch(now)
            return
        with self.lock:
            lines, self.lines = self.lines, []
        recs: list[str] = []
        for raw in lines:
            text = decode(raw).rstrip("\n")
            try:
                entry = json.loads(text)
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or "__CURSOR" not in entry:
                if text.strip():
                    self.note = text.strip()  # journalctl's own words (an error, a hint)
                continue
            recs.append(text)
            self.cursor = str(entry["__CURSOR"])
            if len(recs) >= self.max_batch:
                self.send(recs)
                recs = []
        if recs:
            self.send(recs)
        code = self.proc.poll()
        if code is None:
            self.set_state("ok", "journal")
        elif self.reader is None or not self.reader.is_alive():
            with self.lock:
                left = bool(self.lines)
            if not left:  # every line it wrote is given out: start it again later
                self.proc = None
                self.set_state("error", f"journalctl exited {code}: {self.note}")

    def send(self, recs: list[str]) -> None:
        self.out.send({"t": "batch", "src": self.id, "cursor": self.cursor, "recs": recs})

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for_eof(stream: IO[bytes], done: threading.Event) -> None:
    while stream.read(4096):
        pass
    done.set()


def run(config: dict[str, Any], stdin: IO[bytes], out: Output) -> None:
    poll_seconds = float(config.get("poll_seconds", 0.2))
    beat_seconds = float(config.get("beat_seconds", 5))
    sources: list[FileSource | JournalSource] = []
    for spec in config.get("sources", []):
        if spec.get("journal"):
            sources.append(JournalSource(spec, config, out))
        else:
            sources.append(FileSource(spec, config, out))
    done = threading.Event()
    threading.Thread(target=wait_for_eof, args=(stdin, done), daemon=True).start()
    next_beat = 0.0
    try:
        while not done.is_set():
            now = time.monotonic()
            if now >= next_beat:
                out.send({"t": "beat", "at": time.time()})
                next_beat = now + beat_seconds
            for source in sources:
                source.poll(now)
            done.wait(poll_seconds)
    finally:
        for source in sources:
            source.stop()


def read_config(stdin: IO[bytes]) -> dict[str, Any]:
    line = stdin.readline()
    if not line.strip():
        raise ValueError("no configuration line on stdin")
    config = json.loads(line.decode("utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("sources"), list):
        raise ValueError("the configuration is a JSON object with a list of sources")
    for spec in config["sources"]:
        if not isinstance(spec, dict) or "id" not in spec:
            raise ValueError("each source is an object with an id")
        if not spec.get("journal") and not isinstance(spec.get("path"), str):
            raise ValueError(f"source {spec['id']} has no path")
        if spec.get("start"):
            re.compile(spec["start"])
    return config


def main() -> int:
    stdin = sys.stdin.buffer
    try:
        config = read_config(stdin)
    except (ValueError, re.error) as exc:
        sys.stderr.write(f"follower: bad configuration: {exc}\n")
        return 2
    try:
        run(config, stdin, Output(sys.stdout.buffer))
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
