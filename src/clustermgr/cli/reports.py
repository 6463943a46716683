"""Showing a plan/apply report: the same for every component's CLI."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.markup import escape

from clustermgr.cli.output import OUTCOME_STYLE, emit_json, show
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


def finish_report(report: ApplyReport, as_json: bool) -> None:
    """Print the report on stdout (JSON, or for people); exit 1 if it failed."""
    if as_json:
        emit_json(report.as_dict())
    else:
        show_report(report)
    if not report.ok:
        raise typer.Exit(1)
