"""Clock skew between servers.

Replication and token validation in a cluster break quietly when clocks
disagree, so installs check skew first.  Each server prints its epoch time;
the local clock is read just before sending and just after receiving, and the
remote reading is compared with the midpoint, which cancels the network delay
when it is the same both ways.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from clustermgr.facts.base import Fact, unusable
from clustermgr.remote.command import Command

# date(1) without %N support (busybox, BSD) prints "N" or "%N" literally:
# the seconds are still right, only the fraction is lost.
_EPOCH = re.compile(r"^(?P<seconds>\d+)(?:\.(?P<fraction>\S*))?$")


def parse_epoch(stdout: str) -> float:
    for line in stdout.splitlines():
        match = _EPOCH.match(line.strip())
        if match is None:
            continue
        fraction = match["fraction"] or ""
        if fraction.isdigit():
            return float(f"{match['seconds']}.{fraction}")
        return float(match["seconds"])
    raise unusable("clock", stdout, "no epoch seconds")


CLOCK: Fact[float] = Fact(
    name="clock",
    command=Command.of("date", "+%s.%N"),
    parse=parse_epoch,
)


def offset(local_before: float, remote: float, local_after: float) -> float:
    """How far the remote clock is ahead of ours (negative: behind), in seconds."""
    return remote - (local_before + local_after) / 2


def max_skew(offsets: Mapping[str, float]) -> float:
    """The largest disagreement between any two hosts' offsets, in seconds."""
    if len(offsets) < 2:
        return 0.0
    return max(offsets.values()) - min(offsets.values())
