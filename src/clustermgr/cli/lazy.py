"""Command groups imported when used: the ``clustermgr`` command lists every group from
its declared name and help, and imports a group's module only to run it (or to show
its own help).

Each group's module imports what its commands need (the database, SSH, the job
machinery), so ``clustermgr --help`` imports none of them and ``clustermgr server
list`` imports the server commands' modules only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer import _click


@dataclass(frozen=True)
class Lazy:
    """A command or group of ``clustermgr``: its name, its help (listed without importing
    it) and how to load it."""

    name: str
    help: str
    load: Callable[[], typer.Typer]
    #: A single command (``serve``), not a group of them (``server``).
    command: bool = False


def group(name: str, help: str, load: Callable[[], typer.Typer]) -> Lazy:
    return Lazy(name, help, load)


def command(name: str, help: str, load: Callable[[], Callable[..., Any]]) -> Lazy:
    """A single command, from a loader of its function; ``help`` is the first paragraph
    of the function's docstring (its own ``--help`` shows all of it)."""

    def app() -> typer.Typer:
        one = typer.Typer(add_completion=False)
        one.command(name)(load())
        return one

    return Lazy(name, help, app, command=True)


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands (:attr:`lazy`) load on first use."""

    lazy: ClassVar[tuple[Lazy, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        for entry in self.lazy:
            # A placeholder with the declared help until the command is used.
            self.commands[entry.name] = _Placeholder(entry, name=entry.name, help=entry.help)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        found = self.commands.get(cmd_name)
        if self._listing or not isinstance(found, _Placeholder):
            return found
        loaded = self.commands[cmd_name] = _load(found.entry)
        return loaded

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        with self._list():
            super().format_help(ctx, formatter)

    @contextmanager
    def _list(self) -> Iterator[None]:
        """While the help lists the commands, each one not loaded yet shows its declared
        help and stays unloaded."""
        self._listing = True
        try:
            yield
        finally:
            self._listing = False


class _Placeholder(TyperCommand):
    """A lazy command's line in the help, until it is loaded."""

    def __init__(self, entry: Lazy, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.entry = entry


def _load(entry: Lazy) -> _click.Command:
    app = entry.load()
    if entry.command:
        return typer.main.get_command(app)
    loaded = typer.main.get_group(app)
    loaded.name = entry.name
    loaded.help = loaded.help or entry.help
    return loaded


def lazy_group(entries: Sequence[Lazy]) -> type[LazyGroup]:
    """A :class:`LazyGroup` class for Typer's ``cls=`` (Typer makes the group itself)."""
    return type("Commands", (LazyGroup,), {"lazy": tuple(entries)})
