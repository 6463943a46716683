"""Where an apply's time goes: each step's turn wait, connection and SSH round trips,
their totals per host, the slowest steps, and none of it in the plan's digest.

Durations are real and only bounded from below (a step that sleeps takes at least
that long); counts are exact.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, FileChange, Outcome, Plan, Step, StepResult
from clustermgr.plan.timing import SLOWEST, StepTiming, section
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection


def executor(tmp_path: Path, *, opening: float = 0.0) -> Executor:
    async def connect(host: str) -> Connection:
        await asyncio.sleep(opening)
        return LocalConnection(host)

    return Executor(connect, backup_root=str(tmp_path / "backups"))


def rolling_step(host: str) -> Step:
    return Step(
        host, "restart", "t", commands=(Command.of("sleep", "0.3"),), rolling_group="restart"
    )


async def test_rolling_turn_waits_are_counted_per_step_and_host(tmp_path: Path) -> None:
    plan = Plan("t", tuple(rolling_step(h) for h in ("n1", "n2", "n3")))
    report = await executor(tmp_path).apply(plan)
    assert report.ok
    waits = {h: report.results[h][0].timing.turn_wait for h in ("n1", "n2", "n3")}
    # n2 waits for n1's step (a 0.3 s sleep, started a moment after n2 began to
    # wait), n3 for both; n1 waits for nobody.  Only lower bounds are certain: the
    # sleeps make them; how soon a turn is noticed depends on the machine's load.
    assert waits["n2"] >= 0.25 and waits["n3"] >= 0.5 and waits["n1"] < waits["n3"]
    timing = report.timing()
    assert timing["hosts"]["n3"]["turn_wait"] == round(waits["n3"], 3)
    # Totals are rounded to the millisecond once, so they may differ from a sum of
    # rounded figures in the last digit.
    assert timing["turn_wait"] == pytest.approx(sum(waits.values()), abs=0.002)


async def test_round_trips_are_counted_and_the_connection_charged_to_the_first_step(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "app.conf"
    steps = (
        Step("n1", "write app.conf", "t", files=(FileChange(str(conf), b"a\n"),)),
        Step("n1", "touch", "t", commands=(Command.of("true"), Command.of("true"))),
    )
    report = await executor(tmp_path, opening=0.2).apply(Plan("t", steps))
    write, touch = report.results["n1"]
    # Read the file, create its folder, write the candidate, install it.
    assert write.timing.round_trips == 4 and write.timing.connect >= 0.2
    assert touch.timing.round_trips == 2 and touch.timing.connect == 0
    assert write.timing.ssh > 0 and touch.timing.ssh > 0
    ssh = report.timing()["ssh"]
    assert ssh["round_trips"] == 6 and ssh["connect"] >= 0.2
    again = await executor(tmp_path).apply(Plan("t", steps[:1]))
    (unchanged,) = again.results["n1"]
    assert unchanged.outcome is Outcome.UNCHANGED and unchanged.timing.round_trips == 1


async def test_an_unreachable_host_is_charged_its_connection_time(tmp_path: Path) -> None:
    from clustermgr.errors import HostUnreachable

    async def connect(host: str) -> Connection:
        await asyncio.sleep(0.1)
        raise HostUnreachable(host, "connection refused")

    step = Step("n1", "touch", "t", commands=(Command.of("true"),))
    report = await Executor(connect).apply(Plan("t", (step,)))
    (failed,) = report.results["n1"]
    assert failed.outcome is Outcome.FAILED and failed.timing.connect >= 0.1
    assert failed.timing.round_trips == 0


def result(host: str, title: str, duration: float, **timing: float) -> StepResult:
    return StepResult(
        f"{host}:{title}",
        host,
        title,
        Outcome.CHANGED,
        "r",
        duration=duration,
        timing=StepTiming(**timing),  # type: ignore[arg-type]
    )


def test_the_section_totals_each_host_and_lists_the_slowest_steps() -> None:
    rows = [
        result("a", "one", 1.0, turn_wait=0.5, connect=0.25, round_trips=3, ssh=0.75),
        result("a", "two", 3.0, round_trips=2, ssh=2.5),
        result("b", "three", 2.0, turn_wait=1.0, round_trips=1, ssh=1.0),
        result("b", "skipped", 0.0),
    ]
    shown = section([("Stage", r) for r in rows])
    assert shown["hosts"] == {
        "a": {"steps": 4.0, "turn_wait": 0.5, "connect": 0.25, "round_trips": 5, "ssh": 3.25},
        "b": {"steps": 2.0, "turn_wait": 1.0, "connect": 0.0, "round_trips": 1, "ssh": 1.0},
    }
    assert shown["steps"] == 6.0 and shown["turn_wait"] == 1.5
    assert shown["ssh"] == {"connect": 0.25, "round_trips": 6, "seconds": 4.25}
    # Slowest first; a step that never ran is not listed.
    assert [(r["host"], r["title"], r["duration"]) for r in shown["slowest"]] == [
        ("a", "Stage: two", 3.0),
        ("b", "Stage: three", 2.0),
        ("a", "Stage: one", 1.0),
    ]
    many = section(("", result("a", f"s{i}", float(i + 1))) for i in range(SLOWEST + 5))
    assert len(many["slowest"]) == SLOWEST and many["slowest"][0]["title"] == f"s{SLOWEST + 4}"


def test_timing_leaves_the_digest_alone() -> None:
    rows = [result("a", "one", 1.0), result("a", "two", 2.0)]
    slow = [replace(r, duration=9.0, timing=StepTiming(4.0, 1.0, 7, 3.0)) for r in rows]
    fast = ApplyReport("t", False, {"a": rows})
    slower = ApplyReport("t", False, {"a": slow})
    assert fast.timing() != slower.timing()
    assert fast.digest == slower.digest
    assert fast.as_dict()["digest"] == slower.as_dict()["digest"]
    assert fast.as_dict()["timing"] == fast.timing()
