"""The temporary listener and the connect probe: their parsers, and the programs run here.

The programs are the very commands sent over SSH, run on this machine through
``sh -c``: a listener on a free port answers the probe, a stopped one is refused,
and nothing outlives its stop.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from clustermgr.facts.base import FactParseError
from clustermgr.remote.command import Command
from clustermgr.services import netprobe


def test_parse_listening_reads_pid_and_every_port() -> None:
    out = "listening 389\nbusy 443 Address already in use\nfailed 636 Permission denied\npid 77\n"
    got = netprobe.parse_listening(out)
    assert got == netprobe.Listening(
        77, frozenset({389}), frozenset({443}), {636: "Permission denied"}
    )


def test_parse_listening_with_every_port_taken_has_no_pid() -> None:
    got = netprobe.parse_listening("busy 389 Address already in use\n")
    assert (got.pid, got.ports, got.busy) == (None, frozenset(), frozenset({389}))


def test_a_listener_without_a_pid_is_unusable() -> None:
    with pytest.raises(FactParseError, match="printed no PID"):
        netprobe.parse_listening("listening 389\n")


def test_parse_probe_keeps_known_states_and_skips_noise() -> None:
    out = (
        "10.0.0.2\t389\topen\t\n"
        "10.0.0.2\t636\tfiltered\tno answer within 3 s\n"
        "10.0.0.3\t8888\trefused\tconnection refused\n"
        "Traceback (most recent call last):\n"
        "10.0.0.3\tx\topen\t\n"
        "10.0.0.3\t443\tmaybe\t\n"
    )
    assert netprobe.parse_probe(out) == {
        ("10.0.0.2", 389): ("open", ""),
        ("10.0.0.2", 636): ("filtered", "no answer within 3 s"),
        ("10.0.0.3", 8888): ("refused", "connection refused"),
    }


def _run(command: Command) -> str:
    ran = subprocess.run(
        ["sh", "-c", command.render()], capture_output=True, text=True, timeout=30, check=True
    )
    return ran.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_listener_answers_the_probe_until_it_is_stopped() -> None:
    port, taken = _free_port(), socket.create_server(("127.0.0.1", 0))
    busy = int(taken.getsockname()[1])
    try:
        held = netprobe.parse_listening(_run(netprobe.listen_command([port, busy], 60)))
        assert held.ports == {port} and held.busy == {busy} and held.pid is not None
        cmdline = Path(f"/proc/{held.pid}/cmdline").read_bytes()
        assert netprobe.MARKER.encode() in cmdline
        targets = [("127.0.0.1", port), ("127.0.0.1", busy)]
        answers = netprobe.parse_probe(_run(netprobe.probe_command(targets, 2)))
        assert answers == {t: ("open", "") for t in targets}
        _run(netprobe.stop_command(held.pid))
        assert _gone(held.pid)
        answers = netprobe.parse_probe(_run(netprobe.probe_command(targets[:1], 2)))
        assert answers == {targets[0]: ("refused", "connection refused")}
    finally:
        taken.close()


def test_stop_leaves_a_process_without_the_marker_alone() -> None:
    other = subprocess.Popen(["sleep", "30"])
    try:
        _run(netprobe.stop_command(other.pid))
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_the_listener_exits_by_itself_after_its_lifetime() -> None:
    held = netprobe.parse_listening(_run(netprobe.listen_command([_free_port()], 0.5)))
    assert held.pid is not None
    assert _gone(held.pid, within=10)


def _gone(pid: int, within: float = 5) -> bool:
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited; its parent (init) has not reaped it yet
            return True
        time.sleep(0.05)
    return False
