"""``clustermgr cache``: plan, apply and check the Redis/stunnel/twemproxy cache chain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Yes
from clustermgr.cli.output import (
    APPLYING,
    EXIT_FAILED,
    confirm_or_exit,
    emit_json,
    print_event,
    run_async,
    say,
)
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.components.cache import apply as cache
from clustermgr.components.cache import status as cachestatus
from clustermgr.plan.events import ignore

app = typer.Typer(help="The cache: Redis behind stunnel and twemproxy.", no_args_is_help=True)
add_monitoring_commands(app, "cache")

Provider = Annotated[
    str,
    typer.Option(
        "--provider",
        help="REDIS (the chain) or NATIVE_PERSISTENCE (sessions back in LDAP).",
    ),
]


@app.command()
@run_async()
async def plan(cluster: str, provider: Provider = "REDIS", as_json: Json = False) -> None:
    """Show what setting up the cache chain would change on every host."""
    chosen = cache.parse_provider(provider)
    async with manager() as mgr:
        report = await cache.apply(
            mgr, cluster, dry_run=True, provider=chosen, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


@app.command()
@run_async()
async def apply(
    cluster: str, provider: Provider = "REDIS", yes: Yes = False, as_json: Json = False
) -> None:
    """Set up the cache chain and point the identity servers at it (or back at LDAP)."""
    chosen = cache.parse_provider(provider)
    confirm_or_exit(yes, as_json, f"Apply the cache ({chosen.value})?", change=APPLYING)
    async with manager() as mgr:
        report = await cache.apply(
            mgr,
            cluster,
            dry_run=False,
            provider=chosen,
            actor=cli_actor(),
            emit=ignore if as_json else print_event,
        )
    finish_report(report, as_json)


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """Every hop up or down, twemproxy's pool, Redis figures, and a path check.

    Exit status 1 when a problem is found.
    """
    async with manager() as mgr:
        result = await cachestatus.status(mgr, cluster)
    if as_json:
        emit_json(result.as_dict())
    else:
        for node in result.nodes:
            say(f"[bold]{escape(node.host)}[/] {'up' if node.up else '[red]broken[/]'}")
            for hop in node.hops:
                mark = "[green]up[/]" if hop.up else "[red]down[/]"
                say(f"  {mark} {escape(hop.what)} on {escape(hop.host)} {escape(hop.detail)}")
            if node.redis:
                say(f"  redis: {escape(str(node.redis))}")
        if result.pool:
            say(f"twemproxy ejections: {result.pool.ejections}")
        if result.path:
            say(f"path check: {escape(str(result.path))}")
        for problem in result.problems:
            say(f"[red]problem:[/] {escape(problem)}")
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)
