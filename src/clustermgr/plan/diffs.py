"""Unified diffs as plans show them (pure): the one renderer every diff builder uses."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

CONTEXT = 3


def unified(
    path: str,
    old: Sequence[str] | None,
    new: Sequence[str] | None,
    *,
    shown_old: Sequence[str] | None = None,
    shown_new: Sequence[str] | None = None,
) -> str:
    """A unified diff of two versions' lines (each ending with its newline).

    ``old`` None: the file or entry is created; ``new`` None: it is removed.
    Lines are matched on ``old`` and ``new`` but printed from ``shown_old`` and
    ``shown_new`` (same lengths) when given: a masked line whose hidden value
    changed still shows as changed.
    """
    before, after = list(old or ()), list(new or ())
    show_before = list(shown_old) if shown_old is not None else before
    show_after = list(shown_new) if shown_new is not None else after
    if len(show_before) != len(before) or len(show_after) != len(after):
        raise ValueError("the shown lines must match the compared lines one for one")
    out = [
        f"--- {'/dev/null' if old is None else path}\n",
        f"+++ {'/dev/null' if new is None else path}\n",
    ]
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    hunks = 0
    for group in matcher.get_grouped_opcodes(CONTEXT):
        hunks += 1
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + _ended(line) for line in show_after[j1:j2])
                continue
            out.extend("-" + _ended(line) for line in show_before[i1:i2])
            out.extend("+" + _ended(line) for line in show_after[j1:j2])
    return "".join(out) if hunks else ""


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (1-based; an empty range names the line before)."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def _ended(line: str) -> str:
    return line if line.endswith("\n") else line + "\n"


def hidden(path: str, why: str) -> str:
    """What a plan shows instead of a diff it must not show."""
    return f"{path}: content changes ({why}, not shown)\n"
