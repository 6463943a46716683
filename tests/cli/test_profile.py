"""``--profile`` of ``cluster deploy``: the deploy's result, then where its time went
(each stage's totals among them), all on stdout; nothing more with ``--json``."""

from __future__ import annotations

import json

import pytest
import typer

from clustermgr.cli.deploy import _finish
from clustermgr.jobs.deploy import DeployReport, StageReport, StageStatus
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.plan.timing import StepTiming


def deployed() -> DeployReport:
    step = StepResult(
        "idp1:start-redis",
        "idp1",
        "start Redis",
        Outcome.CHANGED,
        "r",
        duration=1.5,
        timing=StepTiming(turn_wait=0.25, connect=0.125, round_trips=6, ssh=1.25),
    )
    cache = ApplyReport("cache", False, {"idp1": [step]})
    return DeployReport(
        False,
        (
            StageReport("base", "Base preparation", StageStatus.APPLIED, None, "", 0.5),
            StageReport("cache", "Cache", StageStatus.APPLIED, cache, "", 2.0),
        ),
        wall=2.25,
    )


def test_the_deploy_profile_follows_the_result_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _finish(deployed(), False, "deployed", True)
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    start = lines.index("where the time went")
    assert lines[start - 1] == "deployed", "after the result"
    assert lines[start + 1 :] == [
        "  deploy: 2.25 s; its stages: 2.50 s (some run side by side)",
        "  steps: 1.50 s, waiting for rolling turns: 0.25 s, SSH: 6 round trips in 1.25 s, "
        "connecting 0.12 s",
        "slowest steps",
        "  TIME    HOST  STEP                OUTCOME",
        "  1.50 s  idp1  Cache: start Redis  changed",
        "stages",
        "  STAGE             TIME    STEPS",
        "  Base preparation  0.50 s  0.00 s",
        "  Cache             2.00 s  1.50 s",
        "hosts",
        "  HOST  STEPS   TURN WAIT  ROUND TRIPS  SSH     CONNECT",
        "  idp1  1.50 s  0.25 s     6            1.25 s  0.12 s",
    ]


def test_without_profile_or_with_json_no_profile_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _finish(deployed(), False, "deployed", False)
    assert "where the time went" not in capsys.readouterr().out
    _finish(deployed(), True, "deployed", True)
    data = json.loads(capsys.readouterr().out)
    assert data["timing"]["seconds"] == 2.5 and data["timing"]["stages"][1]["steps"] == 1.5


def test_a_failed_deploy_still_exits_1_after_its_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = deployed()
    failed = DeployReport(False, (*report.stages[:1], StageReport("lb", "LB", StageStatus.FAILED)))
    with pytest.raises(typer.Exit) as stopped:
        _finish(failed, False, "the deploy stopped", True)
    assert stopped.value.exit_code == 1
    assert "where the time went" in capsys.readouterr().out
