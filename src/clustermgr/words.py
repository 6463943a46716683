"""Counts in words: "1 peer", "2 peers", "3 entries".

One helper for every front end: the CLI and the plans call :func:`count`, the
GUI's templates use it as the ``count`` filter (``{{ n|count("alert") }}``).
"""

from __future__ import annotations


def plural(noun: str) -> str:
    """The regular English plural of ``noun``: peers, entries, hosts, statuses."""
    if noun.endswith(("s", "x", "sh", "ch")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


def count(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and its noun, agreeing: "1 peer", "0 peers", "3 entries".

    ``many``: the plural when the rule does not make it ("child", "children").
    """
    return f"{n} {noun if n == 1 else (many or plural(noun))}"
