"""Where an apply's time goes: each step's waits and SSH traffic, and their totals.

A step's own ``duration`` runs from its check to its verification.  Besides it, a
step may first wait for its rolling turn, and its host's first step waits for the
connection to open; every command, file read and file write is one SSH round trip.
The totals (per host, and the slowest steps) are computed from the step results
alone, so reports merged from several applies keep them.  None of it is part of a
plan's digest: two plans that make the same changes are the same plan, however
long they took.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clustermgr.plan.model import StepResult

#: How many of the slowest steps the timing section lists.
SLOWEST = 10


@dataclass(frozen=True)
class StepTiming:
    """A step's time outside its own work, and its SSH traffic."""

    #: Seconds it waited for its rolling turn (earlier hosts of its group).
    turn_wait: float = 0.0
    #: Seconds spent opening its host's connection (the host's first step only).
    connect: float = 0.0
    #: Commands, file reads and file writes it sent over SSH.
    round_trips: int = 0
    #: Seconds those round trips took, end to end.
    ssh: float = 0.0


def _seconds(value: float) -> float:
    return round(value, 3)


def section(rows: Iterable[tuple[str, StepResult]]) -> dict[str, Any]:
    """The timing section of a report: ``rows`` are (label, result), the label (a
    stage's title, or "") put before the step's title in the slowest steps."""
    hosts: dict[str, dict[str, float]] = {}
    listed: list[tuple[str, StepResult]] = []
    for label, r in rows:
        listed.append((label, r))
        totals = hosts.setdefault(
            r.host, {"steps": 0.0, "turn_wait": 0.0, "connect": 0.0, "round_trips": 0, "ssh": 0.0}
        )
        totals["steps"] += r.duration
        totals["turn_wait"] += r.timing.turn_wait
        totals["connect"] += r.timing.connect
        totals["round_trips"] += r.timing.round_trips
        totals["ssh"] += r.timing.ssh
    slowest = sorted(listed, key=lambda row: row[1].duration, reverse=True)[:SLOWEST]
    return {
        "steps": _seconds(sum(h["steps"] for h in hosts.values())),
        "turn_wait": _seconds(sum(h["turn_wait"] for h in hosts.values())),
        "ssh": {
            "connect": _seconds(sum(h["connect"] for h in hosts.values())),
            "round_trips": int(sum(h["round_trips"] for h in hosts.values())),
            "seconds": _seconds(sum(h["ssh"] for h in hosts.values())),
        },
        "hosts": {
            host: {
                key: int(value) if key == "round_trips" else _seconds(value)
                for key, value in totals.items()
            }
            for host, totals in hosts.items()
        },
        "slowest": [
            {
                "host": r.host,
                "title": f"{label}: {r.title}" if label else r.title,
                "outcome": r.outcome.value,
                "duration": _seconds(r.duration),
            }
            for label, r in slowest
            if r.duration > 0
        ],
    }
