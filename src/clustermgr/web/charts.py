"""Line charts of a component's history, drawn as SVG by the server (pure, no I/O).

A chart has one line per host over a fixed window: x is time, y the value from
zero to a round ceiling above the highest point.  The template
``partials/chart.html`` draws it; every component page uses the same one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clustermgr.monitor.views import HistoryView

WIDTH, HEIGHT = 640, 220
#: Room for the axis labels: left, right, top, bottom.
MARGIN = (56, 12, 12, 28)
#: How the values read on the axis and in the legend.
Unit = Literal["seconds", "bytes"]
#: Which figure of each bucket a line follows.
Pick = Literal["avg", "max"]

Point = tuple[datetime, float]


@dataclass(frozen=True)
class Line:
    host: str
    label: str
    #: SVG polyline points, "x,y x,y ..."
    points: str
    count: int
    latest: str | None


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    #: The id of the chart's title (unique on its page).
    id: str
    title: str
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN[0]
    right: int = WIDTH - MARGIN[1]
    top: int = MARGIN[2]
    bottom: int = HEIGHT - MARGIN[3]

    @property
    def empty(self) -> bool:
        return not any(line.count for line in self.lines)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 0.1
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover (the loop always returns)


def value_label(value: float, unit: Unit) -> str:
    if unit == "bytes":
        for size, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= size:
                return f"{value / size:.3g} {name}"
        return f"{value:g} B"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.3g} s"


def short(host: str) -> str:
    return host.split(".", 1)[0]


def per_host(history: HistoryView, metric: str, pick: Pick = "max") -> dict[str, list[Point]]:
    """Per host, one point per bucket: the highest ``pick`` over the host's peers."""
    merged: dict[str, dict[datetime, float]] = {}
    for series in history.series:
        if series.metric != metric:
            continue
        points = merged.setdefault(series.host, {})
        for b in series.buckets:
            value = b.max if pick == "max" else b.avg
            points[b.at] = max(value, points.get(b.at, value))
    return {host: sorted(points.items()) for host, points in merged.items()}


def line_chart(
    id: str,
    title: str,
    hosts: Sequence[str],
    points: Mapping[str, Iterable[Point]],
    *,
    since: datetime,
    until: datetime,
    unit: Unit = "seconds",
) -> Chart:
    """One line per host of ``hosts`` (in that order, then any other with points)."""
    order = [*hosts, *sorted(h for h in points if h not in hosts)]
    inside = {h: [(at, v) for at, v in points.get(h, ()) if since <= at < until] for h in order}
    peak = max((v for pts in inside.values() for _, v in pts), default=0.0)
    top_value = nice_ceiling(peak) if unit == "seconds" else _bytes_ceiling(peak)
    left, top = MARGIN[0], MARGIN[2]
    right, bottom = WIDTH - MARGIN[1], HEIGHT - MARGIN[3]
    span = (until - since).total_seconds() or 1.0

    def x_of(at: datetime) -> float:
        return round(left + (right - left) * (at - since).total_seconds() / span, 1)

    def y_of(value: float) -> float:
        return round(bottom - (bottom - top) * min(max(value, 0.0), top_value) / top_value, 1)

    lines = []
    for host in order:
        pts = inside[host]
        text = " ".join(f"{x_of(at)},{y_of(v)}" for at, v in pts)
        latest = value_label(pts[-1][1], unit) if pts else None
        lines.append(Line(host, short(host), text, len(pts), latest))
    y_ticks = tuple(
        Tick(y_of(top_value * i / 4), value_label(top_value * i / 4, unit)) for i in range(5)
    )
    marks = [since + (until - since) * i / 4 for i in range(5)]
    x_ticks = tuple(Tick(x_of(at), at.strftime("%H:%M")) for at in marks)
    return Chart(id, title, tuple(lines), y_ticks, x_ticks)


def history_chart(
    id: str,
    title: str,
    hosts: Sequence[str],
    history: HistoryView,
    metric: str,
    *,
    pick: Pick = "max",
    unit: Unit = "seconds",
) -> Chart:
    """A chart of ``metric`` over ``history``'s window, one line per host."""
    return line_chart(
        id,
        title,
        hosts,
        per_host(history, metric, pick),
        since=history.since,
        until=history.until,
        unit=unit,
    )


def _bytes_ceiling(value: float) -> float:
    """A round ceiling in the unit the value reads in (KiB, MiB...)."""
    size = next((s for s in (2**30, 2**20, 2**10) if value >= s), 1)
    return nice_ceiling(value / size) * size
