"""``clustermgr lb``: NGINX on the proxy in front of the identity nodes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json, Yes
from clustermgr.cli.output import emit_json, print_event, run_async, say
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.lbsettings import DEFAULT_LOCATIONS, SCIM_CAVEAT, Upstream
from clustermgr.plan.events import ignore
from clustermgr.services import lb, lb_settings

app = typer.Typer(help="The load balancer (NGINX on the proxy).", no_args_is_help=True)


def _confirm(yes: bool, as_json: bool, question: str) -> None:
    if not yes and (as_json or not sys.stdin.isatty()):
        raise InvalidInput("this changes servers; confirm with --yes")
    if not yes:
        typer.confirm(question, abort=True)


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False) -> None:
    """Show what setting up the load balancer would change on the proxy."""
    async with manager() as mgr:
        report = await lb.balance(
            mgr, cluster, dry_run=True, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


@app.command()
@run_async()
async def apply(cluster: str, yes: Yes = False, as_json: Json = False) -> None:
    """Install and configure NGINX on the proxy (validated with nginx -t, reloaded)."""
    _confirm(yes, as_json, "Set up the load balancer?")
    async with manager() as mgr:
        report = await lb.balance(
            mgr, cluster, dry_run=False, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


@app.command(help=f"Choose the upstream that serves a location. {SCIM_CAVEAT}")
@run_async()
async def location(
    cluster: str,
    path: Annotated[str, typer.Argument(help=f"One of: {', '.join(DEFAULT_LOCATIONS)}.")],
    upstream: Annotated[Upstream, typer.Argument(help="backend (round robin) or backend_id.")],
    as_json: Json = False,
) -> None:
    """Takes effect at the next `lb apply`."""
    if path not in DEFAULT_LOCATIONS:
        raise InvalidInput(f"unknown location {path!r}", hint=", ".join(DEFAULT_LOCATIONS))
    async with manager() as mgr:
        current = await lb_settings.lb_settings(mgr, cluster)
        locations = {**current.locations, path: upstream}
        await lb_settings.save_lb_settings(
            mgr, cluster, current.model_copy(update={"locations": locations})
        )
    if as_json:
        emit_json({"locations": {p: u.value for p, u in locations.items()}})
        return
    if DEFAULT_LOCATIONS[path] is not upstream:
        say(f"[yellow]note:[/] {escape(SCIM_CAVEAT)}")
    say(f"{escape(path)} -> {upstream.value}; run `clustermgr lb apply {escape(cluster)}`")
