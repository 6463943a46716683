"""What a fact is: a command that reads state, and a pure parser of its output.

Keeping the two halves apart lets every parser be tested against recorded
output without SSH, and lets a planner show exactly which read-only command it
will run.  :func:`gather` is the only place that joins them to a connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from clustermgr.errors import ClustermgrError
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.remembering import read

T = TypeVar("T")

#: Facts read small amounts of state; a read that takes longer than this is stuck.
DEFAULT_TIMEOUT = 30.0

# How much of unusable output an error message quotes: enough to recognise it.
_SNIPPET_CHARS = 120


class FactParseError(ClustermgrError):
    """A command succeeded but printed nothing we can make sense of.

    Raised only when the output is unusable as a whole; a parser skips single
    lines it does not understand, because tools add columns and notes over time.
    """

    code = "fact_parse_error"


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A named read of server state: ``command`` prints it, ``parse`` reads the print."""

    name: str
    command: Command
    parse: Callable[[str], T]


def unusable(fact: str, stdout: str, why: str) -> FactParseError:
    """Build the error a parser raises when ``stdout`` gives it nothing to work with.

    The message quotes the start of the output, so whoever reads it can tell a
    wrong tool version from a shell banner or a locale problem.
    """
    snippet = stdout.strip()[:_SNIPPET_CHARS]
    shown = repr(snippet) if snippet else "no output"
    return FactParseError(
        f"cannot read fact {fact!r}: {why} (got {shown})",
        hint="check that the command exists and prints the usual format on this server",
    )


async def gather(
    conn: Connection,
    fact: Fact[T],
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    prefix: Iterable[str] = (),
) -> T:
    """Run ``fact`` on ``conn`` and return its parsed value.

    A non-zero exit raises :class:`~clustermgr.errors.CommandFailed` (success is
    decided by the exit status, never by words on stderr).  ``prefix`` runs the
    command through e.g. ``("sudo", "-n")`` or ``("chroot", root)``; facts that
    read other users' state (``ss -p``) need it.  A fact is a read: within a deploy
    (a remembering connection) it is read once until something changes.
    """
    prefix = tuple(prefix)
    command = fact.command.wrapped(prefix) if prefix else fact.command
    result = (await read(conn, command, timeout=timeout)).check()
    try:
        return fact.parse(result.stdout)
    except FactParseError as exc:
        raise FactParseError(f"{conn.host}: {exc.message}", hint=exc.hint) from exc
