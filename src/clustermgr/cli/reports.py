"""Showing a plan/apply report: the same for every component's CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from clustermgr.cli.output import OUTCOME_STYLE, emit_json, show
from clustermgr.cli.table import lines
from clustermgr.jobs.kinds import Report
from clustermgr.plan.model import ApplyReport


def show_report(report: ApplyReport, line: Callable[[str], None] = show) -> None:
    """Each host's steps and their outcome, as a result (stdout) unless ``line`` says where."""
    for host, results in report.results.items():
        line(f"[bold]{escape(host)}[/]")
        for r in results:
            style = OUTCOME_STYLE[r.outcome]
            line(
                f"  [{style}]{r.outcome.value:12}[/] {escape(r.title)} [dim]({escape(r.reason)})[/]"
            )
            if r.stderr_tail:
                line(f"[red]{escape(r.stderr_tail)}[/]")
            for warning in r.warnings:
                line(f"    [yellow]warning: {escape(warning)}[/]")
            for d in r.diffs:
                line(f"[dim]{escape(d.diff.rstrip())}[/]")


def _s(seconds: object) -> str:
    return f"{seconds:.2f} s" if isinstance(seconds, int | float) else "-"


def show_profile(timing: dict[str, Any], line: Callable[[str], None] = show) -> None:
    """A report's timing section for people: the slowest steps, each stage's and each
    host's totals, rolling-turn waits and SSH time (a result: stdout by default)."""
    ssh = timing["ssh"]
    line("[bold]where the time went[/]")
    if "seconds" in timing:
        took = timing.get("wall", timing["seconds"])
        line(f"  deploy: {_s(took)}; its stages: {_s(timing['seconds'])} (some run side by side)")
    line(
        f"  steps: {_s(timing['steps'])}, waiting for rolling turns: {_s(timing['turn_wait'])}, "
        f"SSH: {ssh['round_trips']} round trips in {_s(ssh['seconds'])}, "
        f"connecting {_s(ssh['connect'])}"
    )
    slowest = [
        [_s(r["duration"]), escape(r["host"]), escape(r["title"]), r["outcome"]]
        for r in timing["slowest"]
    ]
    if slowest:
        line("[bold]slowest steps[/]")
        for row in lines(["TIME", "HOST", "STEP", "OUTCOME"], slowest, indent=2):
            line(row)
    if timing.get("stages"):
        line("[bold]stages[/]")
        rows = [[escape(s["title"]), _s(s["seconds"]), _s(s["steps"])] for s in timing["stages"]]
        for row in lines(["STAGE", "TIME", "STEPS"], rows, indent=2):
            line(row)
    hosts = [
        [
            escape(host),
            _s(h["steps"]),
            _s(h["turn_wait"]),
            str(h["round_trips"]),
            _s(h["ssh"]),
            _s(h["connect"]),
        ]
        for host, h in timing["hosts"].items()
    ]
    if hosts:
        line("[bold]hosts[/]")
        headers = ["HOST", "STEPS", "TURN WAIT", "ROUND TRIPS", "SSH", "CONNECT"]
        for row in lines(headers, hosts, indent=2):
            line(row)


def finish_report(report: ApplyReport, as_json: bool, *, profile: bool = False) -> None:
    """Print the report on stdout (JSON, or for people; with ``profile``, where the time
    went, which the JSON always holds); exit 1 if it failed."""
    if as_json:
        emit_json(report.as_dict())
    else:
        show_report(report)
        if profile:
            show_profile(report.timing())
    if not report.ok:
        raise typer.Exit(1)


def finish_status(report: Report, as_json: bool, shown: Callable[[dict[str, Any]], None]) -> None:
    """Print a status report on stdout (JSON, or ``shown`` for people); exit 1 when it
    found a problem."""
    result = report.as_dict()
    if as_json:
        emit_json(result)
    else:
        shown(result)
    if not report.ok:
        raise typer.Exit(1)
