"""``clustermgr files``: the certificates and keys every identity node holds the same."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import (
    confirm_or_exit,
    print_event,
    run_async,
    show,
)
from clustermgr.cli.reports import finish_report, finish_status
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import show_table
from clustermgr.components.files import apply as files
from clustermgr.components.files.model import COMPONENT
from clustermgr.components.files.status import status as files_status
from clustermgr.plan.events import ignore

app = typer.Typer(no_args_is_help=True)
add_monitoring_commands(app, COMPONENT)


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False, profile: Profile = False) -> None:
    """Show which node's cluster files differ from their sealed copies (never a secret's
    content)."""
    async with manager() as mgr:
        report = await files.apply(
            mgr, cluster, dry_run=True, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def apply(
    cluster: str, yes: Yes = False, as_json: Json = False, profile: Profile = False
) -> None:
    """Write the sealed copies where a node's cluster files differ."""
    confirm_or_exit(yes, as_json, "Write the sealed cluster files where a node's differ?")
    async with manager() as mgr:
        report = await files.apply(
            mgr, cluster, dry_run=False, actor=cli_actor(), emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """Each node's digest of each cluster file against the sealed copy."""
    async with manager() as mgr:
        report = await files_status(mgr, cluster)
    finish_status(report, as_json, _show_status)


def _show_status(result: dict[str, Any]) -> None:
    if result["sealed"] is None:
        show("[red]no cluster files sealed yet[/]: the install or `files apply` reads them")
        return
    sealed = {f["path"]: f["sha256"] for f in result["sealed"]}
    colour = {"same": "green", "differs": "red", "missing": "red"}
    rows = []
    for node in result["nodes"]:
        if node["error"]:
            rows.append([escape(node["host"]), "", "[yellow]unknown[/]", escape(node["error"])])
        for f in node["files"]:
            state = f"[{colour[f['state']]}]{f['state']}[/]"
            sha = (f["sha256"] or "-")[:16]
            rows.append([escape(node["host"]), escape(f["path"]), state, sha])
    show_table(["NODE", "FILE", "STATE", "SHA-256 / ERROR"], rows)
    for path, sha in sealed.items():
        show(f"sealed {escape(path)} {sha[:16]}")
    for alert in result["open_alerts"]:
        show(f"[red]alert[/] {escape(alert['key'])}: {escape(alert['message'])}")
