"""Cancelling between steps: the running step ends, the rest are skipped."""

from __future__ import annotations

from pathlib import Path

from clustermgr.plan.executor import CANCELLED, Executor
from clustermgr.plan.model import Outcome, Plan, Step
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection


async def test_cancel_skips_the_remaining_steps(tmp_path: Path) -> None:
    marks = [tmp_path / f"step{i}" for i in range(3)]
    flag = {"cancel": False}

    async def connect(host: str) -> Connection:
        return LocalConnection(host)

    def step(i: int) -> Step:
        return Step("h1", f"step {i}", "t", commands=(Command.of("touch", str(marks[i])),))

    def cancelled() -> bool:
        done = marks[0].exists()
        flag["cancel"] = flag["cancel"] or done
        return flag["cancel"]

    report = await Executor(connect, cancelled=cancelled).apply(
        Plan("t", tuple(map(step, range(3))))
    )
    outcomes = [(r.outcome, r.reason) for r in report.all()]
    assert outcomes[0][0] is Outcome.CHANGED
    assert outcomes[1:] == [(Outcome.SKIPPED, CANCELLED)] * 2
    assert marks[0].exists() and not marks[1].exists() and not marks[2].exists()
