"""Which identity nodes serve (pure): health probes and drains in, backend states out.

A node failing its health check is taken out; a drained node stays out whatever
its health.  When every node that is not drained fails, none is taken out for
failing: nginx's passive checks then still try them all, which beats answering
every request 502 because of a probe.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from clustermgr.components.lb.model import Backend, BackendState


@dataclass(frozen=True)
class Probe:
    """One health check of one node, made by the manager directly (not through NGINX)."""

    hostname: str
    healthy: bool
    #: HTTP status, or None when no answer came.
    status: int | None
    seconds: float | None
    error: str = ""
    #: The issuer the node's OpenID discovery names; None when it could not be read.
    issuer: str | None = None


def states(
    backends: Sequence[Backend],
    probes: Mapping[str, Probe],
    drained: Collection[str],
) -> tuple[Backend, ...]:
    """``backends`` with their states; a node without a probe counts as healthy, and a
    joining one stays joining, whatever its health."""

    def healthy(b: Backend) -> bool:
        probe = probes.get(b.hostname)
        return probe is None or probe.healthy

    candidates = [
        b for b in backends if b.hostname not in drained and b.state is not BackendState.JOINING
    ]
    keep_failing = bool(candidates) and not any(healthy(b) for b in candidates)
    out = []
    for b in backends:
        if b.state is BackendState.JOINING:
            state = BackendState.JOINING
        elif b.hostname in drained:
            state = BackendState.DRAINED
        elif healthy(b) or keep_failing:
            state = BackendState.UP
        else:
            state = BackendState.DOWN
        out.append(replace(b, state=state))
    return tuple(out)
