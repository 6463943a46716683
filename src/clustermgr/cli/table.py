"""Results for people in aligned columns, and figures in words, on stdout.

Columns are separated by two spaces and never wrapped, so a row stays one line
for ``grep`` and ``awk`` whatever the terminal's width.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.markup import escape
from rich.text import Text

from clustermgr.cli.output import show

GAP = "  "
#: Shown for a figure that is not known.
UNKNOWN = "-"


def width(cell: str) -> int:
    """How many columns ``cell`` takes once its rich markup is rendered."""
    return Text.from_markup(cell).cell_len


def lines(headers: Sequence[str], rows: Iterable[Sequence[str]], *, indent: int = 0) -> list[str]:
    """The table's lines, the header first (in bold); cells hold rich markup (escape data)."""
    body = [list(row) for row in rows]
    head = [f"[bold]{escape(h)}[/]" for h in headers]
    widths = [max(width(r[i]) for r in [head, *body]) for i in range(len(headers))]
    out = []
    for row in [head, *body]:
        cells = [c + " " * (widths[i] - width(c)) for i, c in enumerate(row)]
        out.append((" " * indent + GAP.join(cells)).rstrip())
    return out


def show_table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, indent: int = 0) -> None:
    """Print a table of the result on stdout (see :func:`lines`)."""
    for line in lines(headers, rows, indent=indent):
        show(line)


def size(octets: object) -> str:
    """Bytes in the unit they read best in: ``1.0 MiB``; ``-`` when not a number."""
    if not isinstance(octets, int | float) or isinstance(octets, bool):
        return UNKNOWN
    for factor, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(octets) >= factor:
            return f"{octets / factor:.1f} {unit}"
    return f"{octets:g} B"


def percent(ratio: object) -> str:
    """A ratio of 0 to 1 as a percentage: ``97 %``; ``-`` when not known."""
    if not isinstance(ratio, int | float) or isinstance(ratio, bool):
        return UNKNOWN
    return f"{ratio * 100:.0f} %"
