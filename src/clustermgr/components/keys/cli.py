"""``clustermgr keys``: the identity app's token signing keys and their rotation."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from clustermgr.cli.options import Json, Yes
from clustermgr.cli.output import (
    EXIT_FAILED,
    confirm_or_exit,
    emit_json,
    print_event,
    run_async,
    say,
    show,
)
from clustermgr.cli.reports import finish_status
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import UNKNOWN, show_table
from clustermgr.components.keys import settings as keys_settings
from clustermgr.components.keys import store
from clustermgr.components.keys.rotate import RotateReport, rotate
from clustermgr.components.keys.status import status as keys_status
from clustermgr.plan.events import Event, EventKind, ignore

app = typer.Typer(no_args_is_help=True)


def _progress(event: Event) -> None:
    if event.kind is EventKind.STEP_OUTPUT and event.host is None:
        say(f"[bold]{escape(event.message)}[/]")
    else:
        print_event(event)


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """The sealed keys (which signs), the rotation in progress, and each node's keystore
    and published keys against the sealed ones.  Exit status 1 when a node differs."""
    async with manager() as mgr:
        report = await keys_status(mgr, cluster)
    finish_status(report, as_json, _show_status)


def _show_status(result: dict[str, Any]) -> None:
    if result["keys"] is None:
        show(f"[red]{escape(result['problem'])}[/]")
        return
    show_table(
        ["KID", "SIGNS", "CREATED"],
        [
            [escape(k["key_id"]), "yes" if k["signs"] else "", escape(k["created"] or UNKNOWN)]
            for k in result["keys"]
        ],
    )
    rotation = result["rotation"]
    if rotation:
        show(
            f"rotation in progress: phase [bold]{rotation['phase']}[/] "
            f"({escape(rotation['title'])}), new key {escape(rotation['new_kid'])}"
        )
        if rotation["removable_at"]:
            show(f"the old keys may go at {escape(rotation['removable_at'])}")
    colour = {"same": "green", "differs": "red", "not published": "yellow", "unknown": "yellow"}
    show_table(
        ["NODE", "STATE", "PUBLISHES", "ERROR"],
        [
            [
                escape(n["host"]),
                f"[{colour[n['state']]}]{n['state']}[/]",
                escape(" ".join(k[:12] for k in n["kids"] or ()) or UNKNOWN),
                escape(n["error"]),
            ]
            for n in result["nodes"]
        ],
    )


def _finish(report: RotateReport, as_json: bool) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        show_table(
            ["PHASE", "STATE", "WHAT", "DETAIL"],
            [[p.phase.value, p.state, escape(p.what), escape(p.detail)] for p in report.phases],
        )
        show(escape(report.message))
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


Restart = Annotated[
    bool,
    typer.Option("--restart", help="Drop a rotation in progress and start a new one."),
]


@app.command()
@run_async()
async def plan(cluster: str, restart: Restart = False, as_json: Json = False) -> None:
    """Show the phases of the rotation left to run and what each does (changes nothing)."""
    async with manager() as mgr:
        report = await rotate(mgr, cluster, dry_run=True, restart=restart)
    _finish(report, as_json)


@app.command("rotate")
@run_async()
async def rotate_keys(
    cluster: str,
    yes: Yes = False,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Do not wait for the token lifetime before removing the old keys: end "
            "there and say when a run can finish.",
        ),
    ] = False,
    restart: Restart = False,
    as_json: Json = False,
) -> None:
    """Rotate the signing keys: add a new key everywhere, make it sign, and remove the old
    ones once the token lifetime has passed.  A rotation that stopped goes on where it
    stopped."""
    confirm_or_exit(yes, as_json, "Rotate the signing keys?")
    async with manager() as mgr:
        report = await rotate(
            mgr,
            cluster,
            dry_run=False,
            actor=cli_actor(),
            emit=ignore if as_json else _progress,
            wait=not no_wait,
            restart=restart,
        )
    _finish(report, as_json)


@app.command("settings")
@run_async()
async def settings_command(
    cluster: str,
    token_lifetime: Annotated[
        int | None,
        typer.Option(
            "--token-lifetime",
            help="Seconds the identity app's tokens are valid: the old keys go this long "
            f"after the new one signs ({keys_settings.allowed(keys_settings.TOKEN_LIFETIME_KEY)}).",
        ),
    ] = None,
    rotate_every_days: Annotated[
        int | None,
        typer.Option(
            "--rotate-every-days",
            help="Rotate on a schedule, every this many days "
            f"({keys_settings.allowed(keys_settings.ROTATE_EVERY_DAYS_KEY)}).",
        ),
    ] = None,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Rotate only when asked.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Print the cluster's keys settings; the options given change them first."""
    update: dict[str, Any] = {}
    if token_lifetime is not None:
        update[keys_settings.TOKEN_LIFETIME_KEY] = token_lifetime
    if rotate_every_days is not None:
        update[keys_settings.ROTATE_EVERY_DAYS_KEY] = rotate_every_days
    if no_schedule:
        update[keys_settings.ROTATE_EVERY_DAYS_KEY] = None
    async with manager() as mgr:
        if update:
            found = await store.change_settings(mgr, cluster, update, actor=cli_actor())
        else:
            found = (await store.keys_state(mgr, cluster)).settings
    if as_json:
        emit_json(found.as_dict())
        return
    for key, value in found.as_dict().items():
        show(f"{key}  {escape('off' if value is None else str(value))}")
