"""``clustermgr notify``: the channels every alert's notifications go to.

Results go to stdout (``--json`` for data), progress and notes to stderr.  The
command line acts as admin (whoever runs it can read the manager's database and
key); the audit trail names ``cli:<os user>``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say, show
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import show_table
from clustermgr.errors import InvalidInput
from clustermgr.notify import service
from clustermgr.notify.channels import (
    ChannelView,
    Level,
    parse_settings,
    parse_spec,
)
from clustermgr.redact import Secret

app = typer.Typer(no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The channel's name, e.g. ops-mail.")]
LEVELS = ", ".join(level.value for level in Level)
MinSeverity = Annotated[
    str,
    typer.Option(
        "--min-severity", help=f"The least severity it gets: {LEVELS}; the ones above too."
    ),
]
Cluster = Annotated[
    str | None, typer.Option("--cluster", "-c", help="Only this cluster's alerts (default: all).")
]
Disabled = Annotated[bool, typer.Option("--disabled", help="Add it switched off.")]


def _show(view: ChannelView, verb: str) -> None:
    show(f"{verb} {view.kind} channel {escape(view.name)}: {escape(view.target)}")


@app.command("list")
@run_async()
async def list_(as_json: Json = False) -> None:
    """List the channels and their state: ok, failing (since when, why), or disabled."""
    async with manager() as mgr:
        views = await service.list_channels(mgr)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        say("no channel yet: add one with `clustermgr notify add-email` or `add-webhook`")
        return
    show_table(
        ["NAME", "KIND", "SEVERITY", "CLUSTER", "STATE", "WAITING", "TARGET", "LAST ERROR"],
        [
            [
                escape(v.name),
                v.kind,
                f"{v.min_severity}+",
                escape(v.cluster or "all"),
                v.state
                + (f" since {v.failing_since:%Y-%m-%d %H:%M}" if v.state == "failing" else ""),
                str(v.pending),
                escape(v.target),
                escape(v.last_error or "-"),
            ]
            for v in views
        ],
    )


@app.command("add-email")
@run_async()
async def add_email(
    name: Name,
    host: Annotated[str, typer.Option(help="The SMTP relay's host name or address.")],
    sender: Annotated[str, typer.Option("--from", help="The sender's address.")],
    to: Annotated[list[str], typer.Option("--to", help="A recipient (repeat for more).")],
    port: Annotated[int, typer.Option(help="The relay's port.")] = 587,
    starttls: Annotated[
        bool,
        typer.Option(
            "--starttls/--no-starttls",
            help="Require STARTTLS (turn it off only for a relay on this machine).",
        ),
    ] = True,
    ca_file: Annotated[
        str | None, typer.Option(help="A CA file (PEM) to trust for the relay's certificate.")
    ] = None,
    username: Annotated[str | None, typer.Option(help="The SMTP login.")] = None,
    password_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the SMTP password (sealed when stored)."),
    ] = None,
    min_severity: MinSeverity = "warning",
    cluster: Cluster = None,
    disabled: Disabled = False,
    as_json: Json = False,
) -> None:
    """Add an email channel: one message per alert opened and resolved, over SMTP."""
    spec = parse_spec(name=name, min_severity=min_severity, cluster=cluster, enabled=not disabled)
    settings = parse_settings(
        "email",
        {
            "host": host,
            "port": port,
            "starttls": starttls,
            "ca_file": ca_file,
            "username": username,
            "sender": sender,
            "recipients": to,
        },
    )
    password = None
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise InvalidInput(f"environment variable {password_env} is not set")
        password = Secret(value, label="smtp-password")
    async with manager() as mgr:
        view = await service.add_channel(mgr, spec, settings, password=password, actor=cli_actor())
    emit_json(view.as_dict()) if as_json else _show(view, "added")


@app.command("add-webhook")
@run_async()
async def add_webhook(
    name: Name,
    url: Annotated[str, typer.Option(help="Where the JSON is posted (http:// or https://).")],
    min_severity: MinSeverity = "warning",
    cluster: Cluster = None,
    disabled: Disabled = False,
    as_json: Json = False,
) -> None:
    """Add a webhook channel: JSON with a Slack-compatible `text` and the alert's fields."""
    spec = parse_spec(name=name, min_severity=min_severity, cluster=cluster, enabled=not disabled)
    settings = parse_settings("webhook", {"url": url})
    async with manager() as mgr:
        view = await service.add_channel(mgr, spec, settings, actor=cli_actor())
    emit_json(view.as_dict()) if as_json else _show(view, "added")


@app.command()
@run_async()
async def remove(name: Name, as_json: Json = False) -> None:
    """Remove a channel and the messages waiting for it."""
    async with manager() as mgr:
        await service.remove_channel(mgr, name, actor=cli_actor())
    emit_json({"removed": name}) if as_json else show(f"removed channel {escape(name)}")


@app.command()
@run_async()
async def enable(name: Name, as_json: Json = False) -> None:
    """Switch a channel on: it gets the alerts that open from now on."""
    await _switch(name, True, as_json)


@app.command()
@run_async()
async def disable(name: Name, as_json: Json = False) -> None:
    """Switch a channel off: it gets nothing, and what waited for it is dropped."""
    await _switch(name, False, as_json)


async def _switch(name: str, on: bool, as_json: bool) -> None:
    async with manager() as mgr:
        view = await service.set_enabled(mgr, name, on, actor=cli_actor())
    if as_json:
        emit_json(view.as_dict())
    else:
        show(f"channel {escape(name)} is {'on' if on else 'off'}")


@app.command()
@run_async()
async def test(name: Name, as_json: Json = False) -> None:
    """Send a test message through a channel now; say whether it arrived, or why not."""
    say(f"[dim]sending a test message through {escape(name)}…[/]")
    async with manager() as mgr:
        view = await service.test_channel(mgr, name, actor=cli_actor())
    if as_json:
        emit_json({"channel": view.name, "sent": True})
    else:
        show(f"test message sent through {escape(view.name)} ({escape(view.target)})")
