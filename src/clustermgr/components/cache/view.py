"""The cache page's drawing (pure): one row per identity node, one box per hop of its chain.

From the watcher's latest cache snapshot (:meth:`CacheStatus.as_dict`): each hop
is green when up, red when down, grey when not checked yet (its ``health``, a CSS
class that fills the box), and says so in a word under its label.  Boxes are sized
for their labels at :data:`LABEL_PX`, drawn at their own size on a page-wide
section.  The chart draws each node's Redis memory over the watcher's samples.
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
BOX_W, BOX_H, GAP, ROW_H, LEFT, TOP = 104, 50, 24, 70, 96, 12
#: The font sizes of a box's label, its state word and a row's node name (as in the CSS).
LABEL_PX, STATE_PX, ROW_LABEL_PX = 13, 12, 14
#: The widest a character of the label font is, as a share of its size.
CHAR_EM = 0.62
#: The word under each box's label, by health.
STATE_WORDS = {"ok": "up", "critical": "down", "unknown": "not checked"}


def text_width(text: str, px: int) -> float:
    """A bound on how wide ``text`` is drawn at ``px`` (sans-serif, no wider than CHAR_EM)."""
    return len(text) * px * CHAR_EM


def fit(text: str, px: int, width: float) -> str:
    """``text``, cut with an ellipsis until it fits ``width`` at ``px``."""
    if text_width(text, px) <= width:
        return text
    keep = max(1, int(width / (px * CHAR_EM)) - 1)
    return text[:keep] + "…"


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    label: str
    health: str
    title: str

    @property
    def state(self) -> str:
        return STATE_WORDS[self.health]


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
    gap: int = GAP


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
        name = fit(host.split(".", 1)[0], ROW_LABEL_PX, LEFT - 8)
        rows.append(Row(y, host, name, tuple(boxes), redis or {}))
    width = LEFT + len(HOPS) * (BOX_W + GAP)
    return Chain(width, TOP * 2 + max(1, len(members)) * ROW_H - (ROW_H - BOX_H), tuple(rows))


def charts(members: list[str], history: HistoryView) -> tuple[Chart, ...]:
    """Redis memory in use per node (the average of each step)."""
    title = "Redis memory in use"
    memory = history_chart(
        "memory-chart", title, members, history, MEMORY_METRIC, pick="avg", unit="bytes"
    )
    return (memory,)
