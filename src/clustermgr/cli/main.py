"""The ``clustermgr`` command.

Every group and command loads when used (:mod:`clustermgr.cli.lazy`): the help lists
them from the names and help texts declared here and in the components'
declarations, so ``clustermgr --help`` imports no group's module and a command
imports its own group only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import typer

from clustermgr import __version__
from clustermgr.cli.lazy import Lazy, command, group, lazy_group
from clustermgr.cli.stages import DeployStages
from clustermgr.components import registry
from clustermgr.components.contract import Component, deploy_stages, lifecycle


def _worker() -> Callable[..., Any]:
    from clustermgr.cli import worker

    return worker.worker


def _serve() -> Callable[..., Any]:
    from clustermgr.cli import serve

    return serve.serve


def _watch() -> Callable[..., Any]:
    from clustermgr.cli import watch

    return watch.watch


def _servers() -> typer.Typer:
    from clustermgr.cli import servers

    return servers.app


def _nodes() -> typer.Typer:
    from clustermgr.cli import nodes

    return nodes.app


def _clusters() -> typer.Typer:
    from clustermgr.cli import clusters

    return clusters.app


def _db() -> typer.Typer:
    from clustermgr.cli import db

    return db.app


def _lab() -> typer.Typer:
    from clustermgr.cli import lab

    return lab.app


def _remote() -> typer.Typer:
    from clustermgr.cli import remote

    return remote.app


def _notify() -> typer.Typer:
    from clustermgr.cli import notify

    return notify.app


def _admin() -> typer.Typer:
    from clustermgr.cli import admin

    return admin.app


def commands(components: Sequence[Component]) -> tuple[Lazy, ...]:
    """Every command and group of ``clustermgr``, in the order the help lists them."""
    return (
        command(
            "worker", "Run jobs from the queue at CLUSTERMGR_QUEUE_URL until stopped.", _worker
        ),
        command("serve", "Serve the web GUI and the REST API (/api/v1) until stopped.", _serve),
        command(
            "watch",
            "Watch every component the registry watches, on every cluster or on one, until "
            "stopped.",
            _watch,
        ),
        group("server", "Servers of a cluster.", _servers),
        group("node", "Add an identity node to a running cluster, or take one out.", _nodes),
        group("cluster", "Clusters and their base preparation.", _clusters),
        *(group(c.name, c.cli_help, c.cli) for c in components if c.cli is not None),
        group("notify", "Notification channels: email and webhooks for every alert.", _notify),
        group("db", "Database schema.", _db),
        group(
            "lab", "The lab: servers on this machine (network namespaces), faults on demand.", _lab
        ),
        group("remote", "Drive a running manager through its REST API.", _remote),
        group("admin", "Users of the web GUI and API, and their API tokens.", _admin),
    )


def make_cli(components: Sequence[Component]) -> typer.Typer:
    """The ``clustermgr`` command with a group per component that has one."""
    cli = typer.Typer(
        cls=lazy_group(commands(components)),
        help="Install and manage a highly available Gluu Server cluster over SSH.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # What generic commands need from the registry (``cluster deploy``: the stages).
        context_settings={
            "obj": DeployStages(
                lambda: deploy_stages(components), nodes=lambda: lifecycle(components)
            )
        },
    )
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
