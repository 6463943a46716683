"""What one load balancer check means (pure): alerts, samples and the snapshot.

A backend that fails its health check opens ``backend:H`` (it is taken out of
the upstreams); passing again resolves it (it is put back).  A drained node is
out on purpose: no alert.  A failed rewrite of the upstreams opens ``reload:P``.
A node whose OpenID discovery names another issuer than the cluster's public
hostname opens the warning ``issuer:H``: behind the balancer, clients would see
the issuer change from one request to the next.
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


def issuer_key(host: str) -> str:
    return f"issuer:{host}"


def issuer_findings(probes: Mapping[str, Probe], expected: str) -> list[Finding]:
    """A warning for each node serving another issuer than ``expected`` (the cluster's)."""
    seen = {p.issuer for p in probes.values() if p.issuer is not None}
    why = (
        f"through the load balancer, discovery names {len(seen)} different issuers"
        if len(seen) > 1
        else "every node should serve the cluster's issuer"
    )
    return [
        Finding(
            issuer_key(host),
            Severity.WARNING,
            f"{host} serves the issuer {probe.issuer}, not {expected} "
            f"(the cluster's public hostname): {why}",
        )
        for host, probe in sorted(probes.items())
        if probe.issuer is not None and probe.issuer != expected
    ]


def issuer_unknown(probes: Mapping[str, Probe]) -> list[str]:
    """The nodes whose issuer could not be read: their warnings stay as they are."""
    return [issuer_key(h) for h, p in probes.items() if p.issuer is None]


_OUT = (BackendState.DRAINED, BackendState.JOINING)


def findings(
    backends: Sequence[Backend], probes: Mapping[str, Probe], reload_error: str | None, proxy: str
) -> list[Finding]:
    out = []
    for b in backends:
        probe = probes.get(b.hostname)
        if (
            probe is None
            or probe.healthy
            or b.state in (BackendState.DRAINED, BackendState.JOINING)
        ):
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
    issuer: str | None = None,
) -> dict[str, Any]:
    """``issuer``: what every node should name (the cluster's public hostname)."""
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
                "issuer": probe.issuer if probe else None,
                "checked_at": at.isoformat(),
            }
        )
    return {"proxy": proxy, "issuer": issuer, "backends": rows, "nginx": dict(nginx)}
