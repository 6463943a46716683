"""What the replication page draws, computed from the watcher's data (pure, no I/O).

The topology puts the identity nodes on a circle and draws, for every ordered
pair, one arrow from the provider to the consumer (the direction changes flow),
coloured by the worst of: the consumer's agreement check, the pair's catch-up
and any open alert about it.  The charts draw the probe and lag history, one line
per node.
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

WIDTH, HEIGHT = 560, 360
NODE_RADIUS = 34
#: Two arrows join each pair of nodes, one per direction, this far apart.
LANE = 7.0


def worse(a: str, b: str) -> str:
    return max(a, b, key=HEALTH.index)


@dataclass(frozen=True)
class NodeDot:
    host: str
    label: str
    x: float
    y: float
    health: str
    state: str
    server_id: int | None


@dataclass(frozen=True)
class Arrow:
    """Changes flowing from ``provider`` to ``consumer``."""

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
    width: int = WIDTH
    height: int = HEIGHT


def short(host: str) -> str:
    return host.split(".", 1)[0]


def _positions(hosts: Sequence[str]) -> dict[str, tuple[float, float]]:
    cx, cy = WIDTH / 2, HEIGHT / 2
    radius = min(cx, cy) - NODE_RADIUS - 12
    if len(hosts) == 1:
        return {hosts[0]: (cx, cy)}
    out = {}
    for i, host in enumerate(hosts):
        angle = -math.pi / 2 + 2 * math.pi * i / len(hosts)
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        out[host] = (round(x, 1), round(y, 1))
    return out


def _alert_health(alerts: Iterable[AlertView]) -> dict[str, str]:
    """Alert key -> health of the open alert with that key."""
    return {a.key: a.severity if a.severity in HEALTH else "warning" for a in alerts if a.open}


def _arrow_geometry(
    start: tuple[float, float], end: tuple[float, float]
) -> tuple[float, float, float, float]:
    """From the edge of one circle to the edge of the other, shifted into its lane."""
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    # The lane is to the right of the direction of travel, so the two arrows of a
    # pair never overlap.
    ox, oy = -uy * LANE, ux * LANE
    gap = NODE_RADIUS + 4
    return (
        round(x1 + ux * gap + ox, 1),
        round(y1 + uy * gap + oy, 1),
        round(x2 - ux * (gap + 6) + ox, 1),
        round(y2 - uy * (gap + 6) + oy, 1),
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
    where = _positions(members)
    dots = []
    for host in members:
        seen = nodes_seen.get(host)
        health = seen.get("health", "ok") if seen else "unknown"
        state = seen.get("state", "unknown") if seen else "not checked yet"
        x, y = where[host]
        server_id = seen.get("server_id") if seen else None
        dots.append(NodeDot(host, short(host), x, y, health, state, server_id))
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
    return Topology(tuple(dots), tuple(arrows))


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
