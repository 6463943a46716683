"""Active health checks of the load balancer: the watcher's ``lb`` component.

Each cycle, for every cluster whose balancer ``lb apply`` set up (a flag in its
settings), and only while this process holds the cluster's ``lb`` lease: the
manager probes every identity node's health check directly, decides which
nodes serve (:func:`~clustermgr.components.lb.health.states`), and when
the upstreams on the proxy say otherwise rewrites them (``nginx -t``, then a
graceful reload).  A node taken out opens ``backend:H``; put back, it resolves.
A node naming another issuer than the cluster's public hostname opens the
warning ``issuer:H``.  NGINX's own counters (stub_status) go into the snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import findings as lbfindings
from clustermgr.components.lb import health
from clustermgr.components.lb.model import STATUS_PATH, UPSTREAMS_FILE, Balancer
from clustermgr.components.lb.plan import upstreams_step
from clustermgr.components.lb.probe import probe_all
from clustermgr.components.lb.settingsstore import applied_clusters
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.facts.base import gather
from clustermgr.facts.nginx import stub_status, upstreams
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access, forget_host
from clustermgr.plan.events import ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import Outcome, Plan
from clustermgr.settings import Settings
from clustermgr.validation import host_port

log = logging.getLogger(__name__)


def serving_map(balancer: Balancer) -> dict[str, bool]:
    """``address:port`` -> serving, as :func:`clustermgr.facts.nginx.upstreams` reads it."""
    return {host_port(b.address, b.port): b.serving for b in balancer.backends}


@dataclass(frozen=True)
class Check:
    """One check of a cluster's balancer; ``cycle`` is None when it is not set up."""

    balancer: Balancer
    cycle: Cycle | None
    #: True when this check rewrote the upstreams.
    rewrote: bool = False


async def check(
    manager: Manager, cluster: str, access: HostAccess, *, timeout: float, repair: bool
) -> Check:
    """Probe, decide, read the proxy (and with ``repair`` bring its upstreams in line)."""
    want = await lb.desired(manager, cluster)
    proxy = want.balancer.proxy
    proxy_error: str | None = None
    deployed: dict[str, bool] | None = None
    try:
        conn = await access.connection(proxy)
        deployed = await gather(conn, upstreams(UPSTREAMS_FILE), timeout=timeout)
    except ClustermgrError as exc:
        proxy_error = exc.message
        await forget_host(access, proxy)  # the next cycle connects anew
    if deployed == {}:
        return Check(want.balancer, None)
    probes = await probe_all(want.balancer.backends, timeout, want.ca_pem)
    backends = health.states(want.balancer.backends, probes, want.settings.drained)
    balancer = replace(want.balancer, backends=backends)
    nginx: dict[str, Any] = {}
    reload_error, rewrote = None, False
    if deployed is not None and repair and deployed != serving_map(balancer):
        reload_error = await _rewrite(access, balancer)
        rewrote = reload_error is None
        deployed = serving_map(balancer) if rewrote else deployed
    if deployed is not None:
        nginx["deployed"] = deployed
        try:
            counters = await gather(conn, stub_status(balancer.status_port, STATUS_PATH))
            nginx["stub_status"] = counters.as_dict()
        except ClustermgrError as exc:
            nginx["error"] = exc.message
    else:
        nginx["error"] = proxy_error
    now = utcnow()
    cycle = Cycle(
        cluster,
        lbfindings.COMPONENT,
        now,
        lbfindings.snapshot(proxy, backends, probes, now, nginx, want.issuer),
        lbfindings.measures(probes),
        [
            *lbfindings.findings(backends, probes, reload_error, proxy),
            *lbfindings.issuer_findings(probes, want.issuer),
        ],
        unknown=[
            *([f"reload:{proxy}"] if deployed is None else []),
            *lbfindings.issuer_unknown(probes),
        ],
    )
    return Check(balancer, cycle, rewrote)


async def _rewrite(access: HostAccess, balancer: Balancer) -> str | None:
    """Write the upstreams (validated, reloaded); None on success, else why not."""
    platform = await access.platform(balancer.proxy)
    step = upstreams_step(balancer, platform.init)
    report = await Executor(access.connection, ignore).apply(Plan("load balancer health", (step,)))
    failed = [r for r in report.all() if r.outcome is Outcome.FAILED]
    if failed:
        return f"{failed[0].reason} {failed[0].stderr_tail}".strip()
    return None


class LbWatch:
    """The ``lb`` component of the watcher: one check per cluster and cycle."""

    name = lbfindings.COMPONENT

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self._access: dict[str, HostAccess] = {}

    def interval(self, settings: Settings) -> float:
        return settings.watch_interval

    async def clusters(self) -> list[str]:
        return await applied_clusters(self.manager)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        access = self._access.get(cluster)
        if access is None:
            settings = check_settings(self.settings)
            access = await open_access(self.manager, cluster, settings=settings)
            self._access[cluster] = access
        timeout = self.settings.watch_timeout
        result = await check(self.manager, cluster, access, timeout=timeout, repair=True)
        if result.cycle is not None:
            yield result.cycle

    async def forget(self, cluster: str) -> None:
        access = self._access.pop(cluster, None)
        if access is not None:
            await close_access(access, self.settings.watch_timeout)

    async def close(self) -> None:
        for name in list(self._access):
            await self.forget(name)
