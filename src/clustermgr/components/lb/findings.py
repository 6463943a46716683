"""What one load balancer check means (pure): alerts, samples and the snapshot.

A backend that fails its health check opens ``backend:H`` (it is taken out of
the upstreams); passing again resolves it (it is put back).  A drained node is
out on purpose: no alert.  A failed rewrite of the upstreams opens ``reload:P``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from clustermgr.components.lb.health import Probe
from clustermgr.components.lb.model import Backend, BackendState
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Measure

COMPONENT = "lb"
HEALTH_METRIC = "health_seconds"


def backend_key(host: str) -> str:
    return f"backend:{host}"


def findings(
    backends: Sequence[Backend], probes: Mapping[str, Probe], reload_error: str | None, proxy: str
) -> list[Finding]:
    out = []
    for b in backends:
        probe = probes.get(b.hostname)
        if probe is None or probe.healthy or b.state is BackendState.DRAINED:
            continue
        if b.state is BackendState.DOWN:
            text = (
                f"{b.hostname} fails its health check ({probe.error}): taken out of the upstreams"
            )
        else:
            text = f"{b.hostname} fails its health check ({probe.error}); kept in: no node passes"
        out.append(Finding(backend_key(b.hostname), Severity.CRITICAL, text))
    if reload_error is not None:
        out.append(
            Finding(
                f"reload:{proxy}",
                Severity.CRITICAL,
                f"the upstreams on {proxy} could not be updated: {reload_error}",
            )
        )
    return out


def measures(probes: Mapping[str, Probe]) -> list[Measure]:
    return [
        Measure(HEALTH_METRIC, p.hostname, None, p.seconds)
        for p in probes.values()
        if p.seconds is not None
    ]


def snapshot(
    proxy: str,
    backends: Sequence[Backend],
    probes: Mapping[str, Probe],
    at: datetime,
    nginx: Mapping[str, Any],
) -> dict[str, Any]:
    rows = []
    for b in backends:
        probe = probes.get(b.hostname)
        rows.append(
            {
                "host": b.hostname,
                "address": f"{b.address}:{b.port}",
                "state": b.state.value,
                "healthy": probe.healthy if probe else None,
                "status": probe.status if probe else None,
                "seconds": probe.seconds if probe else None,
                "error": probe.error if probe else "",
                "checked_at": at.isoformat(),
            }
        )
    return {"proxy": proxy, "backends": rows, "nginx": dict(nginx)}
