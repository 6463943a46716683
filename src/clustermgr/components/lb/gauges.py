"""The load balancer's health gauges for ``/metrics``, from its watcher's latest snapshot
(pure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clustermgr.monitor.exposition import Gauge

HEALTHY = "Whether a backend's health check passed (1) or not (0)."
STATE = "A backend's state in NGINX (1 for the state it is in)."


def gauges(snapshot: dict[str, Any]) -> Iterator[Gauge]:
    """``backend_healthy`` (when checked) and ``backend_state`` of every backend."""
    for backend in snapshot.get("backends") or []:
        if not isinstance(backend, dict):
            continue
        host = str(backend.get("host", ""))
        if isinstance(backend.get("healthy"), bool):
            yield Gauge("backend_healthy", HEALTHY, float(backend["healthy"]), {"host": host})
        if backend.get("state"):
            yield Gauge("backend_state", STATE, 1.0, {"host": host, "state": str(backend["state"])})
