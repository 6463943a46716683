"""``clustermgr noop``: prints the plan it would run."""

from __future__ import annotations

import typer

from clustermgr.cli.output import emit_json
from noop.jobs import NoopReport

app = typer.Typer(no_args_is_help=True)


@app.command()
def plan(cluster: str, message: str = "hello") -> None:
    """Show the (empty) plan for CLUSTER."""
    emit_json(NoopReport(cluster, message, applied=False).as_dict())


@app.command()
def version() -> None:
    """A second command, so the group stays a group."""
    typer.echo("noop 1")
