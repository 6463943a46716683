"""Where the CLI writes: results on stdout, progress and notes on stderr.

A result is what the command was asked for: words and tables for people, or
``--json`` data.  Keeping it alone on stdout lets ``clustermgr cache status
lab | grep down`` and ``clustermgr ... --json | jq`` work while progress, the
context of a question, hints and errors still show on stderr.  Every error
takes one shape, in both forms.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import Outcome
from clustermgr.redact import redact

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1
EXIT_USAGE = 2

#: What an apply that nobody confirmed would have done.
APPLYING = "applying changes servers"

out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

OUTCOME_STYLE = {
    Outcome.CHANGED: "yellow",
    Outcome.UNCHANGED: "green",
    Outcome.FAILED: "bold red",
    Outcome.SKIPPED: "magenta",
    Outcome.WOULD_CHANGE: "cyan",
}


def show(text: str) -> None:
    """A line of the result, for people, on stdout. ``text`` may hold rich markup."""
    out.print(text)


def say(text: str) -> None:
    """Progress, a note or a question's context, for people, on stderr (rich markup)."""
    err.print(text)


def emit_json(data: object) -> None:
    sys.stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")
    sys.stdout.flush()


def print_event(event: Event) -> None:
    """Live progress of the executor, one line per event worth seeing."""
    where = f"[bold]{escape(event.host)}[/] " if event.host else ""
    if event.kind is EventKind.STEP_FINISHED and event.outcome is not None:
        style = OUTCOME_STYLE[event.outcome]
        say(f"  {where}[{style}]{escape(event.message)}[/]")
    elif event.kind is EventKind.HOST_FAILED:
        say(f"  {where}[bold red]unreachable: {escape(event.message)}[/]")
    elif event.kind is EventKind.STEP_STARTED:
        say(f"  {where}[dim]… {escape(event.message)}[/]")
    elif event.kind in (EventKind.PLAN_STARTED, EventKind.PLAN_FINISHED):
        say(f"[bold]{escape(event.message)}[/]")


def interactive(as_json: bool) -> bool:
    """Whether a person can be asked: a terminal on stdin and no ``--json``."""
    return sys.stdin.isatty() and not as_json


def confirm_or_exit(yes: bool, as_json: bool, question: str, *, change: str = "") -> None:
    """Go on with ``--yes`` or once a person answers yes; refuse when nobody can be asked.

    ``change`` says what would happen (for the refusal); by default, a change of servers.
    """
    if yes:
        return
    if not interactive(as_json):
        raise InvalidInput(f"{change or 'this changes servers'}; confirm with --yes")
    typer.confirm(question, abort=True)


def fail(error: ClustermgrError, *, as_json: bool) -> typer.Exit:
    if as_json:
        emit_json(error.as_dict())
    else:
        say(f"[bold red]error:[/] {escape(error.message)}")
        if error.hint:
            say(f"[dim]hint: {escape(error.hint)}[/]")
        if error.details and logging.getLogger().isEnabledFor(logging.INFO):  # --verbose
            say(f"[dim]{escape(error.details)}[/]")
    return typer.Exit(EXIT_USAGE if isinstance(error, InvalidInput) else EXIT_FAILED)


def run_async(
    as_json_arg: str = "as_json",
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, R]]:
    """Run an async command body; turn domain errors into one message and an exit status."""

    def decorate(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return asyncio.run(fn(*args, **kwargs))
            except ClustermgrError as exc:
                raise fail(exc, as_json=bool(kwargs.get(as_json_arg))) from None

        return wrapper

    return decorate
