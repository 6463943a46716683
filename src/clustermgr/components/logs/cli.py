"""``clustermgr logs``: search the stored logs of a cluster, and follow them live; the
cluster's logs settings (slapd's level, the retention); plan and apply the logs stage.

Records print one to a line (continuation lines indented), oldest first:
time (UTC), host, source, level, message; the words searched for are highlighted
when stdout is a terminal.  ``--json`` prints the API's shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sys
from collections.abc import AsyncGenerator, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, out, print_event, run_async, say
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.components.logs import apply as logs_apply
from clustermgr.components.logs import read, settings, settingsstore
from clustermgr.errors import InvalidInput
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import StoredRecord
from clustermgr.plan.events import ignore
from clustermgr.redact import redact

app = typer.Typer(no_args_is_help=True)
add_monitoring_commands(app, "logs")

HIT = "bold reverse"
LEVEL_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "debug": "dim"}

Hosts = Annotated[
    list[str] | None, typer.Option("--host", help="Only this server (repeat for any of several).")
]
Sources = Annotated[
    list[str] | None,
    typer.Option("--source", help="Only this source: syslog, slapd, nginx-access... (repeat)."),
]
Level = Annotated[
    str | None,
    typer.Option("--level", help="Only this level (error), or this or worse (>=warning)."),
]


def full_query(query: str, hosts: Sequence[str], sources: Sequence[str], level: str | None) -> str:
    """``query`` with the options as its filters (``host:NAME``...): checked by the
    query's parser, like anything typed in it."""
    parts = [query.strip()] if query.strip() else []
    for name, values in (("host", hosts), ("source", sources), ("level", [level] if level else [])):
        for value in values:
            if not value.strip() or any(c.isspace() or c == '"' for c in value):
                raise InvalidInput(
                    f"invalid --{name} {value!r}",
                    hint=f"a {name} is one word, without spaces or quotes",
                )
            parts.append(f"{name}:{value}")
    return " ".join(parts)


#: Control characters but tab and newline: a terminal would act on them (colours, the
#: window's title, moving the cursor), so a record's text shows them escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with its control characters (tab and newline aside) as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def line(found: StoredRecord, terms: Sequence[str]) -> str:
    """A record as rich markup: time, host, source, level, its message (hits styled)."""
    record = found.record
    level = record.level or "-"
    style = LEVEL_STYLE.get(level)
    shown = escape(level) if style is None else f"[{style}]{escape(level)}[/]"
    message = "".join(
        f"[{HIT}]{escape(visible(text))}[/]" if hit else escape(visible(text))
        for text, hit in read.highlight(record.message, terms)
    )
    head = (
        f"{record.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} {escape(record.host)} "
        f"{escape(record.source)} {shown} "
    )
    return head + message.replace("\n", "\n  ")


def _show(records: Sequence[StoredRecord], terms: Sequence[str]) -> None:
    for found in records:
        out.print(line(found, terms))
    sys.stdout.flush()


@app.command()
@run_async()
async def search(
    cluster: str,
    query: Annotated[str, typer.Argument(help='Words, "phrases", -excluded, host:NAME...')] = "",
    host: Hosts = None,
    source: Sources = None,
    level: Level = None,
    since: Annotated[
        str | None, typer.Option("--since", help="15m, 1h, 24h, 7d back, or an ISO time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="An ISO time (default: now).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="The most records shown.")] = 100,
    as_json: Json = False,
) -> None:
    """The newest records matching QUERY (default: the last hour), shown oldest first."""
    text = full_query(query, host or [], source or [], level)
    window = read.window(text, since, until, now=datetime.now(UTC))
    say(
        f"searching {escape(cluster)} from {window.since:%Y-%m-%d %H:%M:%S} "
        f"to {window.until:%Y-%m-%d %H:%M:%S} UTC"
    )
    async with manager() as mgr:
        page = await read.search(mgr, cluster, window, limit=limit)
    if as_json:
        emit_json(page.as_dict())
        return
    _show(page.hits[::-1], page.terms)
    more = f" (the newest {len(page.hits)} shown: --limit for more)" if page.before_id else ""
    say(f"{page.total} records match{more}")


@app.command()
@run_async()
async def tail(
    cluster: str,
    query: Annotated[str, typer.Argument(help='Words, "phrases", -excluded, host:NAME...')] = "",
    host: Hosts = None,
    source: Sources = None,
    level: Level = None,
    as_json: Json = False,
) -> None:
    """Print the records matching QUERY as they are stored, until Ctrl-C (with --json,
    one record per line)."""
    text = full_query(query, host or [], source or [], level)
    terms = parse_query(text).highlight_terms()
    async with manager() as mgr:
        follow = await read.tail(mgr, cluster, text)
        say(f"following {escape(cluster)}'s logs; Ctrl-C stops")
        await _until_stopped(_print(follow, terms, as_json))
    say("stopped")


@app.command("settings")
@run_async()
async def logs_settings(
    cluster: str,
    max_age_days: Annotated[
        int | None,
        typer.Option(
            "--max-age-days",
            help="Prune records older than this many days "
            f"({settings.allowed(settings.MAX_AGE_DAYS_KEY)}).",
        ),
    ] = None,
    max_megabytes: Annotated[
        int | None,
        typer.Option(
            "--max-megabytes",
            help="Prune the oldest records beyond this size in MiB "
            f"({settings.allowed(settings.MAX_MEGABYTES_KEY)}).",
        ),
    ] = None,
    slapd_log_level: Annotated[
        str | None,
        typer.Option("--slapd-log-level", help=f"slapd's level: {settings.SLAPD_LOG_LEVEL_RULE}."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the cluster's logs settings; the options given change them first."""
    update: dict[str, Any] = {
        k: v
        for k, v in (
            (settings.MAX_AGE_DAYS_KEY, max_age_days),
            (settings.MAX_MEGABYTES_KEY, max_megabytes),
            (settings.SLAPD_LOG_LEVEL_KEY, slapd_log_level),
        )
        if v is not None
    }
    apply_needed = False
    async with manager() as mgr:
        if update:
            done = await settingsstore.change_settings(mgr, cluster, update, actor=cli_actor())
            found, apply_needed = done.after, done.level_changed
        else:
            found = await settingsstore.cluster_logs_settings(mgr, cluster)
    if as_json:
        emit_json(found.as_dict() | ({"apply_needed": apply_needed} if update else {}))
    else:
        for key, value in found.as_dict().items():
            out.print(f"{key}  {escape(str(value))}")
    if apply_needed:
        say(f"slapd's log level changed: `clustermgr logs apply {escape(cluster)}` sets it")


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False) -> None:
    """Show what the logs stage would change: the follower, slapd's log level."""
    async with manager() as mgr:
        report = await logs_apply.apply(
            mgr, cluster, dry_run=True, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


@app.command()
@run_async()
async def apply(cluster: str, yes: Yes = False, as_json: Json = False) -> None:
    """Put the follower on every server and set slapd's log level on the identity nodes."""
    confirm_or_exit(yes, as_json, "Set up log collection?")
    async with manager() as mgr:
        report = await logs_apply.apply(
            mgr, cluster, dry_run=False, actor=cli_actor(), emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


async def _print(
    follow: AsyncGenerator[list[StoredRecord], None], terms: Sequence[str], as_json: bool
) -> None:
    async with contextlib.aclosing(follow):
        async for batch in follow:
            if as_json:
                for found in batch:
                    dumped = json.dumps(read.as_dict(found), separators=(",", ":"))
                    sys.stdout.write(redact(dumped) + "\n")
                sys.stdout.flush()
            else:
                _show(batch, terms)


async def _until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or SIGINT/SIGTERM comes (then it is cancelled)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for pending in (task, stopping):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
