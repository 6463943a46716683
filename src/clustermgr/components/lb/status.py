"""The load balancer's status now: each backend, NGINX's counters, the warnings of this
check (nodes naming another issuer), the open alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.watch import check
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Severity
from clustermgr.monitor.views import AlertView


@dataclass(frozen=True)
class LbStatus:
    cluster: str
    proxy: str
    #: False: no balancer configuration on the proxy (``lb apply`` never ran).
    set_up: bool
    backends: list[dict[str, Any]] = field(default_factory=list)
    nginx: dict[str, Any] = field(default_factory=dict)
    #: What every node's discovery should name: the cluster's public hostname.
    issuer: str | None = None
    #: This check's warnings in words (they do not fail the status).
    warnings: list[str] = field(default_factory=list)
    open_alerts: list[AlertView] = field(default_factory=list)
    #: The rest of the check's snapshot (checked hosts, timings), kept as it came.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Set up, NGINX readable, and no backend down (a drained one is fine)."""
        return (
            self.set_up
            and "error" not in self.nginx
            and not any(b.get("state") == "down" for b in self.backends)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "ok": self.ok,
            "cluster": self.cluster,
            "set_up": self.set_up,
            "proxy": self.proxy,
            "issuer": self.issuer,
            "backends": self.backends,
            "nginx": self.nginx,
            "warnings": self.warnings,
            "open_alerts": [a.as_dict() for a in self.open_alerts],
        }


async def status(manager: Manager, cluster: str) -> LbStatus:
    """Check the balancer now (nothing is changed or recorded): backends, NGINX, alerts."""
    settings = manager.settings
    quick = settings.model_copy(
        update={
            "connect_timeout": settings.watch_timeout,
            "command_timeout": settings.watch_timeout,
        }
    )
    async with await open_access(manager, cluster, settings=quick) as access:
        result = await check(manager, cluster, access, timeout=settings.watch_timeout, repair=False)
    open_alerts = await store.alerts(manager, cluster, open_only=True, component=COMPONENT)
    if result.cycle is None:
        return LbStatus(cluster, result.balancer.proxy, False, open_alerts=open_alerts)
    snapshot = dict(result.cycle.snapshot)
    return LbStatus(
        cluster,
        str(snapshot.pop("proxy", result.balancer.proxy)),
        True,
        backends=list(snapshot.pop("backends", [])),
        nginx=dict(snapshot.pop("nginx", {})),
        issuer=snapshot.pop("issuer", None),
        warnings=[f.message for f in result.cycle.findings if f.severity is Severity.WARNING],
        open_alerts=open_alerts,
        extra=snapshot,
    )
