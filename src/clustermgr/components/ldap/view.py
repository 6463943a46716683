"""What the replication page draws, computed from the watcher's data (pure, no I/O).

The topology puts the identity nodes on a circle and joins every pair with one
straight line.  Each half of the line is one direction of replication: it ends in
an arrowhead at the consumer, coloured by the worst of the consumer's agreement
check, the pair's catch-up and any open alert about it.  The circle grows with
the number of nodes so that no two nodes touch, no line passes under a third
node, and the arrowheads arriving at a node stay apart; names are cut to fit
their circle.  The charts draw the probe and lag history, one line per node.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clustermgr.components.ldap.findings import LAG_METRIC, PROBE_METRIC
from clustermgr.monitor.views import AlertView, HistoryView
from clustermgr.web.charts import Chart, history_chart

#: Health words, worst last; each is also a CSS class (``health-ok``...).
HEALTH = ("ok", "unknown", "warning", "critical")

NODE_RADIUS = 36
#: Room between nodes, between a line and a node it does not join, and round the edge.
MARGIN, CLEARANCE, PAD = 16, 12, 14
#: The smallest circle the nodes sit on.
MIN_RING = 130.0
#: An arrowhead's tip stops this far from its node's centre.
TIP = NODE_RADIUS + 6
#: The largest arrowhead (its length and its width), and the room kept between two.
MAX_HEAD, HEAD_ROOM = 12, 2
#: Font sizes of a node's name and of the line under it (as in the CSS), and a bound
#: on a character's width as a share of the font size.
LABEL_PX, SMALL_PX, CHAR_EM = 14, 11, 0.62


def worse(a: str, b: str) -> str:
    return max(a, b, key=HEALTH.index)


def text_width(text: str, px: int) -> float:
    """A bound on how wide ``text`` is drawn at ``px``."""
    return len(text) * px * CHAR_EM


def fit(text: str, px: int, width: float) -> str:
    """``text``, cut with an ellipsis until it fits ``width`` at ``px``."""
    if text_width(text, px) <= width:
        return text
    keep = max(1, int(width / (px * CHAR_EM)) - 1)
    return text[:keep] + "…"


#: How wide a node's words may be: the circle's chord a little off its centre.
LABEL_ROOM = 2 * NODE_RADIUS - 12


@dataclass(frozen=True)
class NodeDot:
    host: str
    label: str
    x: float
    y: float
    health: str
    state: str
    server_id: int | None

    @property
    def detail(self) -> str:
        """The small line under the name: the server id, else the state, cut to fit."""
        words = f"id {self.server_id}" if self.server_id else self.state
        return fit(words, SMALL_PX, LABEL_ROOM)


@dataclass(frozen=True)
class Arrow:
    """Changes flowing from ``provider`` to ``consumer``: from the middle of the pair's
    line (``x1``, ``y1``) to the arrowhead's tip at the consumer (``x2``, ``y2``)."""

    consumer: str
    provider: str
    x1: float
    y1: float
    x2: float
    y2: float
    health: str
    words: str
    lag_seconds: float | None


@dataclass(frozen=True)
class Topology:
    nodes: tuple[NodeDot, ...]
    arrows: tuple[Arrow, ...]
    width: int
    height: int
    #: The arrowheads' length and width, small enough to stay apart at every node.
    head: int = MAX_HEAD
    radius: int = NODE_RADIUS


def short(host: str) -> str:
    return host.split(".", 1)[0]


def ring_radius(count: int) -> float:
    """The smallest circle on which ``count`` nodes keep apart and clear of other lines.

    Neighbours are a chord apart (``2R sin(pi/n)``); the line passing nearest a node
    it does not join is the one between its two neighbours, ``R (1 - cos(2 pi/n))``
    from it.
    """
    if count < 2:
        return 0.0
    apart = (2 * NODE_RADIUS + MARGIN) / (2 * math.sin(math.pi / count))
    clear = (NODE_RADIUS + CLEARANCE) / (1 - math.cos(2 * math.pi / count)) if count > 3 else 0
    return max(MIN_RING, apart, clear)


def head_size(count: int) -> int:
    """Arrowheads as large as fits: lines reach a node ``pi/n`` apart (the inscribed
    angle), so two tips at ``TIP`` from its centre are ``2 TIP sin(pi/2n)`` apart."""
    if count < 3:
        return MAX_HEAD
    room = 2 * TIP * math.sin(math.pi / (2 * count)) - HEAD_ROOM
    return max(4, min(MAX_HEAD, int(room)))


def _positions(hosts: Sequence[str]) -> tuple[dict[str, tuple[float, float]], int, int]:
    """Each host's centre, and the drawing's width and height."""
    ring = ring_radius(len(hosts))
    # Two nodes side by side; more round a circle starting at the top.
    start = math.pi if len(hosts) == 2 else -math.pi / 2
    raw = [
        (ring * math.cos(start + 2 * math.pi * i / len(hosts)),
         ring * math.sin(start + 2 * math.pi * i / len(hosts)))
        for i in range(len(hosts))
    ]  # fmt: skip
    edge = NODE_RADIUS + PAD
    left = min((x for x, _ in raw), default=0.0) - edge
    top = min((y for _, y in raw), default=0.0) - edge
    width = math.ceil(max((x for x, _ in raw), default=0.0) + edge - left)
    height = math.ceil(max((y for _, y in raw), default=0.0) + edge - top)
    where = {
        h: (round(x - left, 1), round(y - top, 1)) for h, (x, y) in zip(hosts, raw, strict=True)
    }
    return where, width, height


def _alert_health(alerts: Iterable[AlertView]) -> dict[str, str]:
    """Alert key -> health of the open alert with that key."""
    return {a.key: a.severity if a.severity in HEALTH else "warning" for a in alerts if a.open}


def _arrow_geometry(
    provider: tuple[float, float], consumer: tuple[float, float]
) -> tuple[float, float, float, float]:
    """From the middle of the pair's line to ``TIP`` short of the consumer's centre."""
    (x1, y1), (x2, y2) = provider, consumer
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    return (
        round((x1 + x2) / 2, 1),
        round((y1 + y2) / 2, 1),
        round(x2 - ux * TIP, 1),
        round(y2 - uy * TIP, 1),
    )


def topology(
    members: Sequence[str], snapshot: Mapping[str, Any] | None, alerts: Iterable[AlertView]
) -> Topology:
    """Nodes and arrows of ``members`` (the inventory's identity nodes, in order)."""
    alert = _alert_health(alerts)
    data = snapshot or {}
    nodes_seen = {n["host"]: n for n in data.get("nodes", [])}
    agreements = {(a["consumer"], a["provider"]): a for a in data.get("agreements", [])}
    pairs = {(p["host"], p["peer"]): p for p in data.get("pairs", [])}
    where, width, height = _positions(members)
    dots = []
    for host in members:
        seen = nodes_seen.get(host)
        health = seen.get("health", "ok") if seen else "unknown"
        state = seen.get("state", "unknown") if seen else "not checked yet"
        x, y = where[host]
        server_id = seen.get("server_id") if seen else None
        label = fit(short(host), LABEL_PX, LABEL_ROOM)
        dots.append(NodeDot(host, label, x, y, health, state, server_id))
    arrows = []
    for consumer in members:
        for provider in members:
            if consumer == provider:
                continue
            health, words = _link(consumer, provider, nodes_seen, agreements, alert)
            pair = pairs.get((consumer, provider))
            lag = pair.get("lag_seconds") if pair else None
            if health == "ok" and pair and not pair.get("caught_up", True):
                health, words = "warning", f"behind by {lag if lag is not None else '?'} s"
            arrows.append(
                Arrow(
                    consumer,
                    provider,
                    *_arrow_geometry(where[provider], where[consumer]),
                    health=health,
                    words=words,
                    lag_seconds=lag,
                )
            )
    return Topology(tuple(dots), tuple(arrows), width, height, head_size(len(members)))


def _link(
    consumer: str,
    provider: str,
    nodes: Mapping[str, Mapping[str, Any]],
    agreements: Mapping[tuple[str, str], Mapping[str, Any]],
    alert: Mapping[str, str],
) -> tuple[str, str]:
    """Health and words of one agreement, before lag is considered."""
    node = nodes.get(consumer)
    if node is None or node.get("state") != "ok":
        return "unknown", f"{short(consumer)} could not be checked"
    found = agreements.get((consumer, provider))
    key = f"{consumer}<-{provider}"
    if found is None:
        return worse("warning", alert.get(f"agreement:{key}", "ok")), "no agreement"
    if found.get("state") != "ok":
        reason = found.get("reason") or ""
        return "critical", f"{found.get('state')}{': ' + reason if reason else ''}"
    if f"divergence:{key}" in alert:
        return worse("warning", alert[f"divergence:{key}"]), "stays behind (diverging?)"
    return "ok", "replicating"


# --- the charts -------------------------------------------------------------------


def charts(members: Sequence[str], history: HistoryView) -> tuple[Chart, Chart]:
    """Probe latency (the slowest other node, per node written on) and lag (per consumer)."""
    return (
        history_chart(
            "probe-chart",
            "Probe latency: seconds until the slowest other node had the probe",
            members,
            history,
            PROBE_METRIC,
        ),
        history_chart(
            "lag-chart",
            "Lag: seconds each node was behind its furthest peer",
            members,
            history,
            LAG_METRIC,
        ),
    )
