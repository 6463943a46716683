"""The plan executor over real SSH connections to real sshd servers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clustermgr.plan.events import Event
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import FileChange, Outcome, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.pool import ConnectionPool
from sshd import Connect, SshdLab

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(sshds: SshdLab, open_ssh: Connect) -> AsyncIterator[ConnectionPool]:
    by_name = {h.target.name: h for h in sshds.hosts}

    async def factory(name: str) -> Connection:
        return await open_ssh(by_name[name])

    async with ConnectionPool(factory) as opened:
        yield opened


def config_steps(tmp_path: Path, host: str, content: bytes) -> tuple[Step, ...]:
    folder = tmp_path / host
    return (
        Step(
            host,
            "write app.conf",
            "test",
            files=(FileChange(str(folder / "app.conf"), content, mode=0o600),),
        ),
        Step(
            host,
            "enable app",
            "test",
            commands=(Command.of("touch", str(folder / "enabled")),),
            check=Command.of("test", "-e", str(folder / "enabled")),
            unchanged_reason="enabled",
        ),
    )


async def test_apply_twice_second_run_all_unchanged(pool: ConnectionPool, tmp_path: Path) -> None:
    hosts = ["node1", "node2", "node3"]
    plan = Plan(
        "t", tuple(s for h in hosts for s in config_steps(tmp_path, h, f"name={h}\n".encode()))
    )
    events: list[Event] = []
    first = await Executor(pool.get, events.append, backup_root=str(tmp_path / "bk")).apply(plan)
    assert first.count(Outcome.CHANGED) == 6 and first.ok
    second = await Executor(pool.get, backup_root=str(tmp_path / "bk")).apply(plan)
    assert [r.outcome for r in second.all()] == [Outcome.UNCHANGED] * 6
    assert {r.reason for r in second.all()} == {"files already up to date", "enabled"}
    for h in hosts:
        assert (tmp_path / h / "app.conf").read_bytes() == f"name={h}\n".encode()
    assert {e.host for e in events if e.host} == set(hosts)


async def test_failing_step_on_one_host_leaves_others_intact(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    broken = Step(
        "node2", "break", "test", commands=(Command.script("echo disk full >&2; exit 28"),)
    )
    plan = Plan(
        "t",
        (
            *config_steps(tmp_path, "node1", b"a\n"),
            broken,
            *config_steps(tmp_path, "node2", b"b\n"),
            *config_steps(tmp_path, "node3", b"c\n"),
        ),
    )
    report = await Executor(pool.get, backup_root=str(tmp_path / "bk")).apply(plan)
    assert [r.outcome for r in report.results["node1"]] == [Outcome.CHANGED, Outcome.CHANGED]
    assert [r.outcome for r in report.results["node3"]] == [Outcome.CHANGED, Outcome.CHANGED]
    node2 = report.results["node2"]
    assert [r.outcome for r in node2] == [Outcome.FAILED, Outcome.SKIPPED, Outcome.SKIPPED]
    assert node2[0].exit_status == 28 and node2[0].stderr_tail == "disk full"
    assert not (tmp_path / "node2").exists()
    assert (tmp_path / "node3" / "app.conf").read_bytes() == b"c\n"


async def test_invalid_file_is_rolled_back_byte_identical(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    target = tmp_path / "slapd.conf"
    original = bytes(range(256)) + b"\nvalid: yes\n"
    target.write_bytes(original)
    target.chmod(0o640)
    before = target.stat()

    def validate(path: str) -> Command:
        return Command.script(
            'grep -q "^valid: yes" "$1" || { echo "line 1: syntax error" >&2; exit 1; }', path
        )

    for in_place in (False, True):
        step = Step(
            "node1",
            "write slapd.conf",
            "test",
            files=(
                FileChange(
                    str(target), b"garbage\n", validate=validate, validate_in_place=in_place
                ),
            ),
        )
        (result,) = (
            await Executor(pool.get, backup_root=str(tmp_path / "bk")).apply(Plan("t", (step,)))
        ).all()
        assert result.outcome is Outcome.FAILED
        assert result.stderr_tail == "line 1: syntax error"
        assert target.read_bytes() == original
        assert target.stat().st_mode == before.st_mode
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "bk") == ["slapd.conf"]


async def test_a_sensitive_file_diffs_with_its_secrets_masked(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    """Old and new versions hold different real secrets; the plan shows neither."""
    old_pw = Secret.held(secrets.token_urlsafe(18), label="old")
    new_pw = Secret.held(secrets.token_urlsafe(18), label="new")
    path = tmp_path / "node1" / "redis.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"port 6379\nrequirepass {old_pw.reveal()}\nmaxmemory 1gb\n")
    content = f"port 6380\nrequirepass {new_pw.reveal()}\nmaxmemory 1gb\n".encode()
    change = FileChange(str(path), content, mode=0o600, sensitive=True, secrets=(new_pw,))
    plan = Plan("t", (Step("node1", "write redis.conf", "test", files=(change,)),))
    events: list[Event] = []
    executor = Executor(pool.get, events.append, backup_root=str(tmp_path / "bk"))
    planned = await executor.apply(plan, dry_run=True)
    applied = await executor.apply(plan)
    for report in (planned, applied):
        (result,) = report.all()
        diff = result.diffs[0].diff
        assert [x for x in diff.splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---")] == [
            "-port 6379",
            "-requirepass ********",
            "+port 6380",
            "+requirepass ********",
        ]
        shown = repr(report.as_dict()) + " ".join(e.message for e in events)
        assert old_pw.reveal() not in shown and new_pw.reveal() not in shown
    assert path.read_bytes() == content


async def test_round_trips_and_ssh_time_are_counted_per_host(
    pool: ConnectionPool, tmp_path: Path
) -> None:
    hosts = ["node1", "node2"]
    plan = Plan("t", tuple(s for h in hosts for s in config_steps(tmp_path, h, b"x\n")))
    first = await Executor(pool.get, backup_root=str(tmp_path / "bk")).apply(plan)
    timing = first.timing()
    for h in hosts:
        write, enable = first.results[h]
        # One probe of both steps (the file is missing), create the folder, write the
        # candidate, install it; then the check in a probe of its own (the first step
        # changed something), the command, and the check again as verification.
        assert (write.timing.round_trips, enable.timing.round_trips) == (4, 3)
        assert write.timing.connect > 0 and enable.timing.connect == 0, "opened once"
        totals = timing["hosts"][h]
        assert totals["round_trips"] == 7 and totals["ssh"] > 0 and totals["connect"] > 0
        assert totals["ssh"] <= totals["steps"]
    assert timing["ssh"]["round_trips"] == 14
    again = await Executor(pool.get, backup_root=str(tmp_path / "bk")).apply(plan)
    assert again.timing()["ssh"]["round_trips"] == 2, "one probe per host"
    assert again.timing()["ssh"]["connect"] < timing["ssh"]["connect"], "already open"
