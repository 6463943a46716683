"""The cache page's drawing (pure): one row per identity node, one box per hop of its chain.

From the watcher's latest cache snapshot (:meth:`CacheStatus.as_dict`): each hop
is green when up, red when down, grey when not checked yet.  The chart draws each
node's Redis memory over the watcher's samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clustermgr.components.cache import status as cs
from clustermgr.components.cache.findings import MEMORY_METRIC
from clustermgr.monitor.views import HistoryView
from clustermgr.web.charts import Chart, history_chart

#: The hops in the order a request travels, with their short labels.
HOPS = (
    (cs.APP_TUNNEL, "node :7000"),
    (cs.PROXY_TLS, "proxy :8888"),
    (cs.TWEMPROXY, "twemproxy"),
    (cs.POOL_MEMBER, "in pool"),
    (cs.NODE_TUNNEL, "tunnel"),
    (cs.NODE_TLS, "node :7777"),
    (cs.REDIS, "Redis"),
)
BOX_W, BOX_H, GAP, ROW_H, LEFT, TOP = 92, 40, 22, 64, 110, 16


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    label: str
    health: str
    title: str


@dataclass(frozen=True)
class Row:
    y: int
    host: str
    name: str
    boxes: tuple[Box, ...]
    redis: dict[str, Any]


@dataclass(frozen=True)
class Chain:
    width: int
    height: int
    rows: tuple[Row, ...]
    box_w: int = BOX_W
    box_h: int = BOX_H


def chain(members: list[str], snapshot: dict[str, Any] | None) -> Chain:
    found = {n.get("host"): n for n in (snapshot or {}).get("nodes", []) if isinstance(n, dict)}
    rows = []
    for i, host in enumerate(members):
        y = TOP + i * ROW_H
        node = found.get(host, {})
        hops = {h.get("what"): h for h in node.get("hops", []) if isinstance(h, dict)}
        boxes = []
        for j, (what, label) in enumerate(HOPS):
            hop = hops.get(what)
            if hop is None:
                health, title = "unknown", f"{what}: not checked"
            elif hop.get("up"):
                health, title = "ok", f"{what} on {hop.get('host')}: up"
            else:
                detail = f" ({hop.get('detail')})" if hop.get("detail") else ""
                health, title = "critical", f"{what} on {hop.get('host')}: down{detail}"
            boxes.append(Box(LEFT + j * (BOX_W + GAP), y, label, health, title))
        redis = node.get("redis") if isinstance(node.get("redis"), dict) else {}
        rows.append(Row(y, host, host.split(".", 1)[0], tuple(boxes), redis or {}))
    width = LEFT + len(HOPS) * (BOX_W + GAP)
    return Chain(width, TOP * 2 + max(1, len(members)) * ROW_H - (ROW_H - BOX_H), tuple(rows))


def charts(members: list[str], history: HistoryView) -> tuple[Chart, ...]:
    """Redis memory in use per node (the average of each step)."""
    title = "Redis memory in use"
    memory = history_chart(
        "memory-chart", title, members, history, MEMORY_METRIC, pick="avg", unit="bytes"
    )
    return (memory,)
