"""Commands as values: quoted parts, secrets masked in every rendering.

A :class:`Command` is built from parts.  A plain ``str`` part is always
shell-quoted, a :class:`Secret` part is quoted when the command runs and shown
as a mask everywhere else, a :class:`Raw` part (shell syntax such as ``&&``,
``|`` or ``>``) is written as it is and must come from our own code, never from
input.  A nested ``Command`` part is rendered and quoted as one argument, which
is how ``sh -c``, ``sudo`` and ``chroot`` wrappers stay correct.

``str(command)`` is the masked form: safe for logs, events and error messages.
Only :meth:`Command.render` reveals secrets, and only the connection calls it.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from clustermgr.redact import MASK, Secret


@dataclass(frozen=True)
class Raw:
    """Shell syntax written verbatim. Only for constants in our own code."""

    text: str


@dataclass(frozen=True)
class Command:
    parts: tuple[str | Secret | Raw | Command, ...]
    #: Bytes (or a secret) fed to the command's standard input.
    stdin: bytes | Secret | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls, *parts: str | Secret | Raw | Command, stdin: bytes | Secret | None = None
    ) -> Command:
        if not parts:
            raise ValueError("a command needs at least one part")
        return cls(tuple(parts), stdin)

    @classmethod
    def script(cls, body: str, *args: str | Secret, stdin: bytes | Secret | None = None) -> Command:
        """A POSIX shell script with positional arguments ``$1``, ``$2``...

        The body is a constant of ours; every variable goes in ``args`` and is
        quoted, so no input can change the script's meaning.
        """
        return cls(("sh", "-c", body, "sh", *args), stdin)

    # --- composition ------------------------------------------------------

    def then(self, other: Command) -> Command:
        """``self && other``"""
        return Command((*self.parts, Raw("&&"), *other.parts), self.stdin)

    def pipe(self, other: Command) -> Command:
        """``self | other``"""
        return Command((*self.parts, Raw("|"), *other.parts), self.stdin)

    def wrapped(self, prefix: Iterable[str]) -> Command:
        """Run this command through a prefix, e.g. ``sudo -n`` or ``chroot DIR``.

        The command becomes one quoted ``sh -c`` argument, so shell syntax in it
        runs inside the prefix, not outside.
        """
        return Command((*prefix, "sh", "-c", self), self.stdin)

    def with_stdin(self, data: bytes | Secret) -> Command:
        return Command(self.parts, data)

    # --- rendering --------------------------------------------------------

    def label(self) -> str:
        """What the command is, in a few words: ``ldapsearch``, "a shell script".

        Messages name a command by this; its full text belongs in details.
        """
        inner = self._wrapped_command()
        if inner is not None:
            return inner.label()
        first = self.parts[0]
        program = first.text if isinstance(first, Raw) else str(first)
        program = program.rsplit("/", 1)[-1]
        inline = len(self.parts) > 1 and self.parts[1] == "-c"
        if inline and program in ("sh", "bash", "dash"):
            return "a shell script"
        if inline and program.startswith("python"):
            return "a Python script"
        return f"`{program}`"

    def _wrapped_command(self) -> Command | None:
        """The command a ``sh -c`` wrapper runs (see :meth:`wrapped`), if this is one."""
        for i, part in enumerate(self.parts[:-1]):
            if part == "-c" and isinstance(self.parts[i + 1], Command):
                inner = self.parts[i + 1]
                return inner if isinstance(inner, Command) else None
        return None

    def render(self) -> str:
        """The exact shell text to execute. Contains secrets: never log it."""
        return " ".join(_render_part(p, reveal=True) for p in self.parts)

    def masked(self) -> str:
        """The shell text with every secret replaced by a mask."""
        return " ".join(_render_part(p, reveal=False) for p in self.parts)

    def secrets(self) -> list[Secret]:
        found: list[Secret] = []
        for part in self.parts:
            if isinstance(part, Secret):
                found.append(part)
            elif isinstance(part, Command):
                found.extend(part.secrets())
        if isinstance(self.stdin, Secret):
            found.append(self.stdin)
        return found

    def stdin_bytes(self) -> bytes | None:
        if isinstance(self.stdin, Secret):
            return self.stdin.reveal().encode()
        return self.stdin

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"Command({self.masked()!r})"


def _render_part(part: str | Secret | Raw | Command, *, reveal: bool) -> str:
    if isinstance(part, Raw):
        return part.text
    if isinstance(part, Secret):
        return shlex.quote(part.reveal()) if reveal else MASK
    if isinstance(part, Command):
        return shlex.quote(part.render() if reveal else part.masked())
    return shlex.quote(part)
