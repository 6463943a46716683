"""The executor on real files, through LocalConnection (real /bin/sh, no SSH).

Over-SSH behaviour is covered by test_executor_ssh.py; these
tests pin the decisions: unchanged vs changed, validation and restore, per-host
isolation, rolling order, and what events say.
"""

from __future__ import annotations

import os
from collections.abc import Set as AbstractSet
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from clustermgr.errors import HostUnreachable
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import EntryChange, FileChange, Outcome, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection


@pytest.fixture
def backups(tmp_path: Path) -> str:
    return str(tmp_path / "backups")


def executor(
    backups: str, events: list[Event] | None = None, down: AbstractSet[str] = frozenset()
) -> Executor:
    async def connect(host: str) -> Connection:
        if host in down:
            raise HostUnreachable(host, "connection refused on 127.0.0.1:1")
        return LocalConnection(host)

    return Executor(
        connect, (events.append if events is not None else lambda e: None), backup_root=backups
    )


def file_step(host: str, path: Path, content: bytes, **kw: Any) -> Step:
    return Step(
        host=host,
        title=f"write {path.name}",
        reason="test",
        files=(FileChange(str(path), content, **kw),),
    )


async def test_applying_twice_changes_then_reports_unchanged(tmp_path: Path, backups: str) -> None:
    target = tmp_path / "etc" / "app.conf"
    plan = Plan("t", (file_step("h1", target, b"a=1\n", mode=0o640),))
    first = await executor(backups).apply(plan)
    second = await executor(backups).apply(plan)
    assert [r.outcome for r in first.all()] == [Outcome.CHANGED]
    assert [r.outcome for r in second.all()] == [Outcome.UNCHANGED]
    assert second.count(Outcome.CHANGED) == 0
    assert target.read_bytes() == b"a=1\n"
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert [p.name for p in target.parent.iterdir()] == ["app.conf"], "no candidate left behind"


async def test_previous_version_is_kept(tmp_path: Path, backups: str) -> None:
    target = tmp_path / "app.conf"
    target.write_bytes(b"old\n")
    await executor(backups).apply(Plan("t", (file_step("h1", target, b"new\n"),)))
    assert target.read_bytes() == b"new\n"
    assert Path(backups, str(target).lstrip("/") + ".prev").read_bytes() == b"old\n"


async def test_dry_run_shows_diff_and_writes_nothing(tmp_path: Path, backups: str) -> None:
    target = tmp_path / "app.conf"
    target.write_bytes(b"a=1\n")
    report = await executor(backups).apply(
        Plan("t", (file_step("h1", target, b"a=2\n"),)), dry_run=True
    )
    (result,) = report.all()
    assert result.outcome is Outcome.WOULD_CHANGE
    assert "-a=1\n+a=2" in result.diffs[0].diff
    assert target.read_bytes() == b"a=1\n"


async def test_invalid_candidate_never_replaces_the_file(tmp_path: Path, backups: str) -> None:
    target = tmp_path / "app.conf"
    original = b"valid=1\n\x00binary\xff\n"
    target.write_bytes(original)
    mtime = target.stat().st_mtime_ns

    def validate(path: str) -> Command:
        return Command.script(
            'grep -q "^valid=" "$1" || { echo "bad syntax in $1" >&2; exit 3; }', path
        )

    step = file_step("h1", target, b"broken\n", validate=validate)
    (result,) = (await executor(backups).apply(Plan("t", (step,)))).all()
    assert result.outcome is Outcome.FAILED
    assert result.exit_status == 3
    assert "bad syntax" in result.stderr_tail
    assert "validation of" in result.reason
    assert target.read_bytes() == original and target.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == ["app.conf"], "candidate discarded"


async def test_in_place_validation_failure_restores_byte_identical(
    tmp_path: Path, backups: str
) -> None:
    target = tmp_path / "app.conf"
    original = b"valid=1\n\xfe\xfd keep these bytes\n"
    target.write_bytes(original)
    os.chmod(target, 0o600)

    def validate(path: str) -> Command:
        return Command.script('grep -q "^valid=" "$1"', path)

    step = file_step(
        "h1", target, b"broken\n", validate=validate, validate_in_place=True, mode=0o644
    )
    (result,) = (await executor(backups).apply(Plan("t", (step,)))).all()
    assert result.outcome is Outcome.FAILED
    assert "restored" in result.reason
    assert target.read_bytes() == original
    assert oct(target.stat().st_mode & 0o777) == "0o600"


async def test_new_file_failing_verification_is_removed(tmp_path: Path, backups: str) -> None:
    target = tmp_path / "new.conf"
    marker = tmp_path / "rolled-back"
    step = Step(
        host="h1",
        title="write new.conf",
        reason="test",
        files=(FileChange(str(target), b"x\n"),),
        verify=Command.of("false"),
        rollback=(Command.of("touch", str(marker)),),
    )
    (result,) = (await executor(backups).apply(Plan("t", (step,)))).all()
    assert result.outcome is Outcome.FAILED
    assert not target.exists()
    assert marker.exists(), "rollback commands run after the files are restored"


async def test_check_decides_and_is_verified_again(tmp_path: Path, backups: str) -> None:
    flag = tmp_path / "installed"
    step = Step(
        host="h1",
        title="install thing",
        reason="needed",
        commands=(Command.of("touch", str(flag)),),
        check=Command.of("test", "-e", str(flag)),
        unchanged_reason="thing is installed",
    )
    first = await executor(backups).apply(Plan("t", (step,)))
    second = await executor(backups).apply(Plan("t", (step,)))
    assert [r.outcome for r in first.all()] == [Outcome.CHANGED]
    (again,) = second.all()
    assert again.outcome is Outcome.UNCHANGED and again.reason == "thing is installed"


async def test_command_that_does_not_reach_the_check_fails(tmp_path: Path, backups: str) -> None:
    step = Step(
        host="h1",
        title="install thing",
        reason="needed",
        commands=(Command.of("true"),),
        check=Command.of("test", "-e", str(tmp_path / "never")),
    )
    (result,) = (await executor(backups).apply(Plan("t", (step,)))).all()
    assert result.outcome is Outcome.FAILED and "verification failed" in result.reason


async def test_failing_host_keeps_other_hosts_results(tmp_path: Path, backups: str) -> None:
    ok_file = tmp_path / "ok.conf"
    steps = (
        Step(
            host="bad",
            title="break",
            reason="t",
            commands=(Command.script("echo boom >&2; exit 7"),),
        ),
        file_step("bad", tmp_path / "never.conf", b"x"),
        file_step("good", ok_file, b"fine\n"),
        file_step("down", tmp_path / "down.conf", b"x"),
    )
    report = await executor(backups, down={"down"}).apply(Plan("t", steps))
    bad = report.results["bad"]
    assert [r.outcome for r in bad] == [Outcome.FAILED, Outcome.SKIPPED]
    assert bad[0].exit_status == 7 and bad[0].stderr_tail == "boom"
    assert [r.outcome for r in report.results["good"]] == [Outcome.CHANGED]
    assert ok_file.read_bytes() == b"fine\n"
    (down,) = report.results["down"]
    assert down.outcome is Outcome.FAILED and "connection refused" in down.reason
    assert not (tmp_path / "never.conf").exists()
    assert not report.ok and sorted(report.failed_hosts) == ["bad", "down"]


async def test_events_count_the_steps_run_of_the_steps_planned(
    tmp_path: Path, backups: str
) -> None:
    events: list[Event] = []
    steps = (
        file_step("good", tmp_path / "one.conf", b"1\n"),
        file_step("good", tmp_path / "two.conf", b"2\n"),
        Step(host="bad", title="break", reason="t", commands=(Command.script("exit 3"),)),
        file_step("bad", tmp_path / "never.conf", b"x"),
    )
    report = await executor(backups, events).apply(Plan("t", steps))
    assert not report.ok
    started = events[0]
    assert started.kind is EventKind.PLAN_STARTED
    assert (started.done, started.planned) == (0, 4)
    finished = [e for e in events if e.kind is EventKind.STEP_FINISHED]
    assert [e.done for e in finished] == [1, 2, 3], "the skipped step never ran: 3 of 4"
    assert {e.planned for e in finished} == {4}
    assert {e.as_dict()["planned"] for e in finished} == {4}
    others = [e for e in events if e.kind not in (EventKind.PLAN_STARTED, EventKind.STEP_FINISHED)]
    assert others and all(e.done is None and e.planned is None for e in others)


def rolling_step(host: str, log: Path, fail: bool = False) -> Step:
    script = 'echo "start $1" >> "$2"; sleep 0.2; echo "end $1" >> "$2"; exit "$3"'
    return Step(
        host=host,
        title="restart service",
        reason="t",
        commands=(Command.script(script, host, str(log), "1" if fail else "0"),),
        rolling_group="restart",
    )


async def test_rolling_steps_run_one_host_at_a_time_in_order(tmp_path: Path, backups: str) -> None:
    log = tmp_path / "log"
    plan = Plan("t", tuple(rolling_step(h, log) for h in ("n1", "n2", "n3")))
    report = await executor(backups).apply(plan)
    assert report.ok
    assert log.read_text().split("\n")[:-1] == [
        "start n1",
        "end n1",
        "start n2",
        "end n2",
        "start n3",
        "end n3",
    ]


async def test_rolling_stops_at_first_failure(tmp_path: Path, backups: str) -> None:
    log = tmp_path / "log"
    plan = Plan(
        "t", (rolling_step("n1", log), rolling_step("n2", log, fail=True), rolling_step("n3", log))
    )
    report = await executor(backups).apply(plan)
    assert [report.results[h][0].outcome for h in ("n1", "n2", "n3")] == [
        Outcome.CHANGED,
        Outcome.FAILED,
        Outcome.SKIPPED,
    ]
    assert "n3" not in log.read_text()


async def test_events_tell_the_story_without_secrets(tmp_path: Path, backups: str) -> None:
    password = Secret.held("Tr0ub4dor&3-events", label="pw")
    events: list[Event] = []
    step = Step(
        host="h1",
        title="set password",
        reason="t",
        commands=(Command.script('echo "using $1"; echo "rejected $1" >&2; exit 1', password),),
    )
    report = await executor(backups, events).apply(Plan("t", (step,)))
    kinds = [e.kind for e in events]
    assert kinds[0] is EventKind.PLAN_STARTED and kinds[-1] is EventKind.PLAN_FINISHED
    assert EventKind.STEP_STARTED in kinds and EventKind.STEP_OUTPUT in kinds
    finished = [e for e in events if e.kind is EventKind.STEP_FINISHED]
    assert finished[0].outcome is Outcome.FAILED
    everything = " ".join(e.message for e in events) + repr(report.as_dict())
    assert "Tr0ub4dor&3-events" not in everything
    assert "********" in everything


async def test_sensitive_file_diff_hides_content(tmp_path: Path, backups: str) -> None:
    step = file_step("h1", tmp_path / "pw.conf", b"password=hunter2-sensitive\n", sensitive=True)
    (result,) = (await executor(backups).apply(Plan("t", (step,)), dry_run=True)).all()
    assert "hunter2-sensitive" not in result.diffs[0].diff
    assert "holds secrets" in result.diffs[0].diff


async def test_dry_run_lists_the_commands_it_would_run_masked(tmp_path: Path, backups: str) -> None:
    password = Secret("S3cret-in-a-plan", label="pw")
    step = Step(
        host="h1",
        title="set password",
        reason="t",
        commands=(Command.of("setpw", "--user", "admin", password),),
    )
    (planned,) = (await executor(backups).apply(Plan("t", (step,)), dry_run=True)).all()
    assert planned.outcome is Outcome.WOULD_CHANGE
    assert planned.commands == ("setpw --user admin ********",)
    assert "S3cret-in-a-plan" not in repr(planned.as_dict())
    unchanged = Step(
        host="h1",
        title="noop",
        reason="t",
        commands=(Command.of("true"),),
        check=Command.of("true"),
    )
    (skipped,) = (await executor(backups).apply(Plan("t", (unchanged,)), dry_run=True)).all()
    assert skipped.outcome is Outcome.UNCHANGED and skipped.commands == ()


async def test_a_changing_step_shows_its_directory_entries(tmp_path: Path, backups: str) -> None:
    entry = EntryChange("cn=config", (("olcServerID", "1 a"),), (("olcServerID", "2 b"),))
    pending = Step("h1", "set ids", "t", commands=(Command.of("true"),), entries=(entry,))
    done = replace(pending, title="already", check=Command.of("true"))
    report = await executor(backups).apply(Plan("t", (pending, done)), dry_run=True)
    would, unchanged = report.all()
    assert would.outcome is Outcome.WOULD_CHANGE and unchanged.outcome is Outcome.UNCHANGED
    assert [d.path for d in would.diffs] == ["ldap:///cn=config"] and unchanged.diffs == ()
    assert "-olcServerID: 1 a\n+olcServerID: 2 b\n" in would.diffs[0].diff


async def test_blank_output_lines_make_no_events(tmp_path: Path, backups: str) -> None:
    """A command's empty lines would show as bare ``host:`` lines in the job's log."""
    events: list[Event] = []
    step = Step(
        host="h1",
        title="talk",
        reason="t",
        commands=(Command.script("echo; echo first; printf '  \\n\\n'; echo second; echo"),),
    )
    await executor(backups, events).apply(Plan("t", (step,)))
    output = [e.message for e in events if e.kind is EventKind.STEP_OUTPUT]
    assert output == ["first", "second"]
    assert all(e.message.strip() for e in events)
