"""``clustermgr cluster``: create, list, plan and apply base preparation."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import DryRun, Json, Yes
from clustermgr.cli.output import OUTCOME_STYLE, emit_json, print_event, run_async, say
from clustermgr.cli.session import manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.plan.events import ignore
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.services import clusters, servers

app = typer.Typer(help="Clusters and their base preparation.", no_args_is_help=True)


@app.command()
@run_async()
async def create(
    name: str,
    hosts_file: Annotated[str, typer.Option(help="Hosts file managed on members.")] = "/etc/hosts",
    as_json: Json = False,
) -> None:
    """Create an empty cluster (server add also creates one on first use)."""
    async with manager() as mgr:
        view = await clusters.create_cluster(mgr, name, ClusterSettings(hosts_file=hosts_file))
    if as_json:
        emit_json(view.as_dict())
    else:
        say(f"created cluster {view.name}")


@app.command("list")
@run_async()
async def list_(as_json: Json = False) -> None:
    """List clusters."""
    async with manager() as mgr:
        views = await servers.list_clusters(mgr)
    if as_json:
        emit_json([{"name": v.name, "servers": len(v.servers)} for v in views])
    for v in views if not as_json else []:
        say(f"{escape(v.name)}: {len(v.servers)} servers")


def show_report(report: ApplyReport) -> None:
    for host, results in report.results.items():
        say(f"[bold]{escape(host)}[/]")
        for r in results:
            style = OUTCOME_STYLE[r.outcome]
            say(
                f"  [{style}]{r.outcome.value:12}[/] {escape(r.title)} [dim]({escape(r.reason)})[/]"
            )
            if r.stderr_tail:
                say(f"[red]{escape(r.stderr_tail)}[/]")
            for warning in r.warnings:
                say(f"    [yellow]warning: {escape(warning)}[/]")
            for d in r.diffs:
                say(f"[dim]{escape(d.diff.rstrip())}[/]")


@app.command()
@run_async()
async def plan(name: str, as_json: Json = False) -> None:
    """Show what base preparation would change on every member. Changes nothing."""
    async with manager() as mgr:
        report = await clusters.prepare(
            mgr, name, dry_run=True, emit=ignore if as_json else print_event
        )
    _finish(report, as_json)


@app.command()
@run_async()
async def apply(
    name: str, dry_run: DryRun = False, yes: Yes = False, as_json: Json = False
) -> None:
    """Apply base preparation: required packages and /etc/hosts on every member."""
    emit = ignore if as_json else print_event
    async with manager() as mgr:
        if not dry_run and not yes:
            preview = await clusters.prepare(mgr, name, dry_run=True, emit=ignore)
            show_report(preview)
            pending = preview.count(Outcome.WOULD_CHANGE)
            if not preview.ok:
                raise typer.Exit(_finish(preview, as_json))
            if pending == 0:
                say("nothing to change")
                return
            if not sys.stdin.isatty() or as_json:
                raise InvalidInput(f"{pending} steps would change servers; confirm with --yes")
            typer.confirm(f"Apply {pending} changes?", abort=True)
        report = await clusters.prepare(mgr, name, dry_run=dry_run, emit=emit)
    _finish(report, as_json)


def _finish(report: ApplyReport, as_json: bool) -> int:
    if as_json:
        emit_json(report.as_dict())
    else:
        show_report(report)
    if not report.ok:
        raise typer.Exit(1)
    return 0
