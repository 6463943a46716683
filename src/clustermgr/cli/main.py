"""The ``clustermgr`` command."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import typer

from clustermgr import __version__
from clustermgr.cli import admin, clusters, db, lab, remote, serve, servers, watch, worker
from clustermgr.cli.deploy import DeployStages
from clustermgr.components import registry
from clustermgr.components.contract import Component, deploy_stages


def make_cli(components: Sequence[Component]) -> typer.Typer:
    """The ``clustermgr`` command with a group per component that has one."""
    cli = typer.Typer(
        help="Install and manage a highly available Gluu Server cluster over SSH.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # What generic commands need from the registry (``cluster deploy``: the stages).
        context_settings={"obj": DeployStages(deploy_stages(components))},
    )
    cli.add_typer(servers.app, name="server")
    cli.add_typer(clusters.app, name="cluster")
    for component in components:
        if component.cli is not None:
            cli.add_typer(component.cli, name=component.name)
    cli.add_typer(db.app, name="db")
    cli.add_typer(lab.app, name="lab")
    cli.add_typer(remote.app, name="remote")
    cli.add_typer(admin.app, name="admin")
    cli.command("worker")(worker.worker)
    cli.command("serve")(serve.serve)
    cli.command("watch")(watch.watch)
    cli.callback()(root)
    return cli


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


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


app = make_cli(registry.COMPONENTS)


def main() -> None:
    app()
