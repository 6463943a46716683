"""``clustermgr cache``: plan, apply and check the Redis/stunnel/twemproxy cache chain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import (
    APPLYING,
    EXIT_FAILED,
    confirm_or_exit,
    emit_json,
    print_event,
    run_async,
    show,
)
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import UNKNOWN, percent, show_table, size
from clustermgr.components.cache import apply as cache
from clustermgr.components.cache import status as cachestatus
from clustermgr.plan.events import ignore

app = typer.Typer(no_args_is_help=True)
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
async def plan(
    cluster: str, provider: Provider = "REDIS", as_json: Json = False, profile: Profile = False
) -> None:
    """Show what setting up the cache chain would change on every host."""
    chosen = cache.parse_provider(provider)
    async with manager() as mgr:
        report = await cache.apply(
            mgr, cluster, dry_run=True, provider=chosen, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def apply(
    cluster: str,
    provider: Provider = "REDIS",
    yes: Yes = False,
    as_json: Json = False,
    profile: Profile = False,
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
    finish_report(report, as_json, profile=profile)


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
        show_status(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _state(up: bool, down: str = "down") -> str:
    return "[green]up[/]" if up else f"[red]{down}[/]"


def show_status(result: cachestatus.CacheStatus) -> None:
    """The chain of every node, its Redis figures, twemproxy's pool and the path check."""
    show_table(
        ["NODE", "CHAIN", "REDIS MEMORY", "KEYS", "HIT RATE"],
        [
            [
                escape(node.host),
                _state(node.up, "broken"),
                size(node.redis.get("used_memory")),
                str(node.redis.get("keys", UNKNOWN)),
                percent(node.redis.get("hit_rate")),
            ]
            for node in result.nodes
        ],
    )
    show("")
    show_table(
        ["CHAIN OF", "HOP", "ON", "STATE", "DETAIL"],
        [
            [escape(owner), escape(hop.label), escape(hop.host), _state(hop.up), escape(hop.detail)]
            for owner, hops in [
                *((n.host, n.hops) for n in result.nodes),
                ("proxy", result.proxy_hops),
            ]
            for hop in hops
        ],
    )
    show("")
    if result.pool:
        show(f"twemproxy: {result.pool.ejections} ejections since it started")
    if result.path:
        path = result.path
        verdict = "[green]passed[/]" if path.get("ok") else "[red]failed[/]"
        show(
            f"path check: written through {escape(str(path.get('written_on')))}, "
            f"read through {escape(str(path.get('read_on')))}: {verdict}"
        )
    for problem in result.problems:
        show(f"[red]problem:[/] {escape(problem)}")
