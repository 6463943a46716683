"""The cache's health gauges for ``/metrics``, from its watcher's latest snapshot (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clustermgr.monitor.exposition import Gauge

HOP_UP = "Whether a hop of the cache chain answers (1) or not (0), by host and hop."


def gauges(snapshot: dict[str, Any]) -> Iterator[Gauge]:
    """``hop_up`` of every hop the snapshot checked: the proxy's, then each node's."""
    hops = list(snapshot.get("proxy_hops") or [])
    for node in snapshot.get("nodes") or []:
        hops += node.get("hops") or []
    for hop in hops:
        if isinstance(hop, dict) and isinstance(hop.get("up"), bool):
            labels = {"host": str(hop.get("host", "")), "hop": str(hop.get("what", ""))}
            yield Gauge("hop_up", HOP_UP, 1.0 if hop["up"] else 0.0, labels)
