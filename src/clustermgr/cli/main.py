"""The ``clustermgr`` command."""

from __future__ import annotations

import logging

import typer

from clustermgr import __version__
from clustermgr.cli import admin, clusters, db, lab, remote, serve, servers, watch, worker
from clustermgr.components import registry

app = typer.Typer(
    help="Install and manage a highly available Gluu Server cluster over SSH.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(servers.app, name="server")
app.add_typer(clusters.app, name="cluster")
for component in registry.COMPONENTS:
    if component.cli is not None:
        app.add_typer(component.cli, name=component.name)
app.add_typer(db.app, name="db")
app.add_typer(lab.app, name="lab")
app.add_typer(remote.app, name="remote")
app.add_typer(admin.app, name="admin")
app.command("worker")(worker.worker)
app.command("serve")(serve.serve)
app.command("watch")(watch.watch)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details on stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("asyncssh").setLevel(logging.WARNING)


def main() -> None:
    app()
