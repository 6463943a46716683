"""Probes on a real shell (LocalConnection): what one round trip tells about many steps,
and how the executor uses it (no wait for an unchanged rolling step, a fresh probe
after a change)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import FileChange, Outcome, Plan, Step
from clustermgr.plan.probe import parse_probe, probe_command, probeable
from clustermgr.redact import MASK, Secret
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection
from clustermgr.remote.metered import MeteredConnection


def steps(tmp_path: Path) -> list[Step]:
    same = tmp_path / "same.conf"
    same.write_bytes(b"a=1\n")
    other = tmp_path / "other.conf"
    other.write_bytes(b"a=2\n")
    return [
        Step("h", "files", "t", files=(FileChange(str(same), b"a=1\n"),)),
        Step(
            "h",
            "two files, one differs",
            "t",
            files=(FileChange(str(same), b"a=1\n"), FileChange(str(other), b"a=1\n")),
        ),
        Step("h", "new file", "t", files=(FileChange(str(tmp_path / "new 'x'.conf"), b"n\n"),)),
        Step("h", "passing check", "t", check=Command.of("test", "-e", str(same))),
        Step("h", "failing check", "t", check=Command.of("test", "-e", str(tmp_path / "no"))),
        Step("h", "commands only", "t", commands=(Command.of("true"),)),
        Step(
            "h",
            "check reads input",
            "t",
            check=Command.of("grep", "-qx", "in 'x'", stdin=b"in 'x'"),
        ),
        Step("h", "secret input", "t", check=Command.of("cat", stdin=Secret.held("pw", label="t"))),
    ]


async def test_one_round_trip_tells_each_steps_files_and_check(tmp_path: Path) -> None:
    planned = steps(tmp_path)
    conn = MeteredConnection(LocalConnection("h"))
    result = await conn.read(probe_command(planned))
    found = parse_probe(planned, result.stdout)
    assert conn.round_trips == 1
    assert sorted(found) == [0, 1, 2, 3, 4, 6], "not: commands only, a check with a secret input"
    assert [probeable(s) for s in planned[5:]] == [False, True, False]
    assert found[6].unchanged(planned[6]), "the check read its input"
    assert found[0].unchanged(planned[0])
    assert not found[1].unchanged(planned[1])
    assert found[1].matching == {str(tmp_path / "same.conf")} and not found[1].missing
    assert found[2].missing == {str(tmp_path / "new 'x'.conf")}, "a quote in a path is data"
    assert found[3].unchanged(planned[3]) and found[3].check_passed is True
    assert not found[4].unchanged(planned[4]) and found[4].check_passed is False


def test_output_it_does_not_understand_leaves_the_step_out(tmp_path: Path) -> None:
    planned = steps(tmp_path)[:4]
    found = parse_probe(planned, "F 0 0 abc\nF 1 0\nC 3 maybe\nnoise\n")
    assert list(found) == [0], "only the step every line of which came back"
    assert not found[0].unchanged(planned[0]), "a hash that is not the content's"


def test_a_secret_in_a_check_is_masked_in_the_probe_shown() -> None:
    password = Secret.held("s3cr3t-probe-pw", label="probe")
    step = Step("h", "secret check", "t", check=Command.of("ldapsearch", "-w", password))
    command = probe_command([step])
    assert "s3cr3t-probe-pw" not in command.masked() and MASK in command.masked()
    assert "s3cr3t-probe-pw" in command.render()


async def test_a_step_after_a_change_is_probed_again(tmp_path: Path) -> None:
    """The second step's check passes only once the first step wrote its file: a probe
    taken before would say it must run (and its command fails)."""
    flag = tmp_path / "flag"
    plan = Plan(
        "t",
        (
            Step("h", "write flag", "t", files=(FileChange(str(flag), b"1\n"),)),
            Step(
                "h",
                "needs flag",
                "t",
                check=Command.of("test", "-e", str(flag)),
                commands=(Command.of("false"),),
            ),
        ),
    )

    async def connect(host: str) -> Connection:
        return LocalConnection(host)

    report = await Executor(connect, backup_root=str(tmp_path / "bk")).apply(plan)
    assert [r.outcome for r in report.all()] == [Outcome.CHANGED, Outcome.UNCHANGED]


@pytest.mark.parametrize("secret_input", [False, True], ids=["probed", "read-the-long-way"])
async def test_an_unchanged_rolling_step_does_not_wait_for_its_turn(
    tmp_path: Path, secret_input: bool
) -> None:
    """n1 restarts (its command blocks on a FIFO); n2 has nothing to do and finishes
    while n1 still holds the turn.  The FIFO is opened only after n2 reported.  A check
    whose input is a secret is read without the probe, before the turn too."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    done = tmp_path / "done"
    done.write_bytes(b"")

    def restart(host: str, check: Path) -> Step:
        test = Command.of("test", "-e", str(check))
        if secret_input:
            test = Command.script('pw=$(cat) && [ "$pw" = s ] && test -e "$1"', str(check))
            test = test.with_stdin(Secret.held("s", label="probe-test"))
        return Step(
            host,
            "restart",
            "t",
            check=test,
            commands=(Command.of("cat", str(fifo)),),
            verify=Command.of("true"),
            rolling_group="restart",
        )

    events: list[Event] = []
    n2_reported = asyncio.Event()

    def emit(event: Event) -> None:
        events.append(event)
        if event.kind is EventKind.STEP_FINISHED and event.host == "n2":
            n2_reported.set()

    async def connect(host: str) -> Connection:
        return LocalConnection(host)

    plan = Plan("t", (restart("n1", tmp_path / "never"), restart("n2", done)))
    run = asyncio.create_task(Executor(connect, emit, backup_root=str(tmp_path / "bk")).apply(plan))
    try:
        await asyncio.wait_for(n2_reported.wait(), timeout=60)
        assert not run.done(), "n1 still runs its restart"
    except BaseException:
        # Let n1's reader go: a reader left blocked would outlive the test.
        with contextlib.suppress(OSError):  # no reader yet: nothing to release
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        raise
    writer = await asyncio.to_thread(open, fifo, "wb")  # waits for n1's reader
    writer.close()
    report = await asyncio.wait_for(run, timeout=60)
    assert [r.outcome for r in report.results["n1"]] == [Outcome.CHANGED]
    (n2,) = report.results["n2"]
    assert n2.outcome is Outcome.UNCHANGED and n2.timing.turn_wait == 0.0
