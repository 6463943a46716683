"""``clustermgr cluster``: create, list, plan and apply base preparation, deploy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli import deploy
from clustermgr.cli.options import DryRun, Json, Profile, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, print_event, run_async, say, show
from clustermgr.cli.reports import finish_report, show_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import show_table
from clustermgr.core import access
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterSettings, ClusterView
from clustermgr.plan.events import ignore
from clustermgr.plan.model import Outcome
from clustermgr.services import clusters, servers
from clustermgr.words import count

app = typer.Typer(no_args_is_help=True)
app.command("deploy")(deploy.deploy)

PublicHostname = Annotated[
    str | None,
    typer.Option(
        help="The name clients reach the cluster by, every identity node's issuer "
        "(https://NAME). Default: the proxy's hostname."
    ),
]


@app.command()
@run_async()
async def create(
    name: str,
    hosts_file: Annotated[str, typer.Option(help="Hosts file managed on members.")] = "/etc/hosts",
    public_hostname: PublicHostname = None,
    as_json: Json = False,
) -> None:
    """Create an empty cluster (server add also creates one on first use)."""
    async with manager() as mgr:
        raw = {"hosts_file": hosts_file, "public_hostname": public_hostname}
        settings = ClusterSettings.parse({k: v for k, v in raw.items() if v is not None})
        view = await clusters.create_cluster(mgr, name, settings)
    if as_json:
        emit_json(view.as_dict())
    else:
        show(f"created cluster {escape(view.name)}")


@app.command("public-hostname")
@run_async()
async def public_hostname(
    name: str,
    hostname: Annotated[
        str | None,
        typer.Argument(help="The new public hostname; without it, show the current one."),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Go back to the proxy's hostname.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Show or set the name clients reach the cluster by: the load balancer's server name
    and every identity node's issuer (https://NAME). Default: the proxy's hostname."""
    if hostname is not None and default:
        raise InvalidInput("give either a hostname or --default")
    async with manager() as mgr:
        if hostname is None and not default:
            view = await access.get_cluster(mgr, name)
        else:
            change = {"public_hostname": None if default else hostname}
            view = await clusters.change_settings(mgr, name, change, actor=cli_actor())
    if as_json:
        emit_json(
            {
                "cluster": view.name,
                "public_hostname": view.public_hostname,
                "setting": view.settings.public_hostname,
                "issuer": view.issuer,
            }
        )
    else:
        show(describe_public_hostname(view))


def describe_public_hostname(view: ClusterView) -> str:
    if view.public_hostname is None:
        return f"{escape(view.name)} has no public hostname yet: set one, or add a proxy"
    origin = "set" if view.settings.public_hostname else "the proxy's hostname"
    return (
        f"{escape(view.name)}: public hostname {escape(view.public_hostname)} ({origin}); "
        f"every identity node should serve issuer {escape(view.issuer or '')}"
    )


@app.command("list")
@run_async()
async def list_(as_json: Json = False) -> None:
    """List clusters."""
    async with manager() as mgr:
        views = await servers.list_clusters(mgr)
    if as_json:
        emit_json([{"name": v.name, "servers": len(v.servers)} for v in views])
    elif not views:
        say("no clusters yet: create one with `clustermgr cluster create NAME`")
    else:
        show_table(["CLUSTER", "SERVERS"], [[escape(v.name), str(len(v.servers))] for v in views])


@app.command()
@run_async()
async def plan(name: str, as_json: Json = False, profile: Profile = False) -> None:
    """Show what base preparation would change on every member. Changes nothing."""
    async with manager() as mgr:
        report = await clusters.prepare(
            mgr, name, dry_run=True, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def apply(
    name: str,
    dry_run: DryRun = False,
    yes: Yes = False,
    as_json: Json = False,
    profile: Profile = False,
) -> None:
    """Apply base preparation: required packages and /etc/hosts on every member."""
    emit = ignore if as_json else print_event
    async with manager() as mgr:
        if not dry_run and not yes:
            preview = await clusters.prepare(mgr, name, dry_run=True, emit=ignore)
            show_report(preview, say)  # what the question is about
            pending = preview.count(Outcome.WOULD_CHANGE)
            if not preview.ok:
                finish_report(preview, as_json)
                return
            if pending == 0:
                show("nothing to change")
                return
            confirm_or_exit(
                False,
                as_json,
                f"Apply {count(pending, 'change')}?",
                change=f"{count(pending, 'step')} would change servers",
            )
        report = await clusters.prepare(mgr, name, dry_run=dry_run, actor=cli_actor(), emit=emit)
    finish_report(report, as_json, profile=profile)
