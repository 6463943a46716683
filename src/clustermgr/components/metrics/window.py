"""What a reader of the metrics asks for: series names, times and durations, checked.

The API and the CLI read their input through these, so both refuse the same
things with the same words (:class:`InvalidInput`, naming what would do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from clustermgr.components.metrics.catalog import BY_NAME, CATALOG
from clustermgr.errors import InvalidInput

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d+)([smhdw])$")
#: The latest time a reader may name: the end of year 9999 (epoch seconds).
LATEST = 253_402_300_799
#: The longest window one read covers (seconds): what the longest retention could hold.
LONGEST = 10 * 366 * 86400


def series_names(asked: Iterable[str]) -> list[str]:
    """The series asked for (comma-separated values too, in order, once each); every
    series of the catalog when none is.  InvalidInput names the choices."""
    names = [n.strip() for value in asked for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise InvalidInput(
            f"unknown series: {', '.join(repr(n) for n in unknown)}",
            hint=f"one of: {', '.join(s.name for s in CATALOG)}",
        )
    return list(dict.fromkeys(names)) or [s.name for s in CATALOG]


def duration(text: str, name: str = "duration") -> int:
    """``90s``, ``15m``, ``6h``, ``7d``, ``2w`` in seconds."""
    found = _DURATION.match(text.strip())
    seconds = int(found[1]) * _UNITS[found[2]] if found else 0
    if not 0 < seconds <= LONGEST:
        raise InvalidInput(
            f"invalid {name} {text!r}",
            hint="a number and a unit: 90s, 15m, 6h, 7d or 2w (at most ten years)",
        )
    return seconds


def moment(text: str, name: str) -> int:
    """A time as epoch seconds, or ISO 8601 (UTC unless it says otherwise); epoch seconds
    from 1970 to the end of year 9999."""
    value = text.strip()
    try:
        at = int(float(value)) if re.fullmatch(r"\d+(\.\d*)?", value) else _iso(value)
        if not 0 <= at <= LATEST:
            raise ValueError(at)
        return at
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"invalid time {name}={text!r}",
            hint="seconds since the epoch (1767225600) or ISO 8601 (2026-01-01T00:00:00Z)",
        ) from None


def _iso(value: str) -> int:
    at = datetime.fromisoformat(value)
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


def window(start: str | None, end: str | None, now: int, default: int = 3600) -> tuple[int, int]:
    """``[start, end)`` in epoch seconds: ``end`` defaults to now, ``start`` to ``default``
    seconds before it.  InvalidInput when it is empty or too long."""
    to = moment(end, "to") if end is not None else now
    since = moment(start, "from") if start is not None else to - default
    if to <= since:
        raise InvalidInput("the window is empty: 'to' must be after 'from'")
    if to - since > LONGEST:
        raise InvalidInput("the window is too long: at most ten years")
    return since, to
