"""Active health checks of the load balancer: the watcher's ``lb`` component.

Each cycle, for every cluster with a proxy whose NGINX clustermgr set up (its
upstreams file exists), and only while this process holds the cluster's ``lb``
lease: the manager probes every identity node's health check directly, decides
which nodes serve (:func:`~clustermgr.components.lb.health.states`), and when
the upstreams on the proxy say otherwise rewrites them (``nginx -t``, then a
graceful reload).  A node taken out opens ``backend:H``; put back, it resolves.
NGINX's own counters (stub_status) go into the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import findings as lbfindings
from clustermgr.components.lb import health
from clustermgr.components.lb.model import STATUS_PATH, UPSTREAMS_FILE, Balancer
from clustermgr.components.lb.plan import upstreams_step
from clustermgr.components.lb.probe import probe_all
from clustermgr.components.ldap.nodecheck import forget
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.facts.base import gather
from clustermgr.facts.nginx import stub_status, upstreams
from clustermgr.inventory.models import Cluster, Server
from clustermgr.monitor import store
from clustermgr.monitor.store import Cycle, Recorded
from clustermgr.plan.events import ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import Outcome, Plan
from clustermgr.settings import Settings
from clustermgr.topology import Role

log = logging.getLogger(__name__)


def serving_map(balancer: Balancer) -> dict[str, bool]:
    """``address:port`` -> serving, as :func:`clustermgr.facts.nginx.upstreams` reads it."""
    return {f"{b.address}:{b.port}": b.serving for b in balancer.backends}


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
        await forget(access, proxy)  # the next cycle connects anew
    if deployed == {}:
        return Check(want.balancer, None)
    probes = await probe_all(want.balancer.backends, timeout)
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
        lbfindings.snapshot(proxy, backends, probes, now, nginx),
        lbfindings.measures(probes),
        lbfindings.findings(backends, probes, reload_error, proxy),
        unknown=[f"reload:{proxy}"] if deployed is None else [],
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


async def proxied_clusters(manager: Manager) -> list[str]:
    """Clusters with a proxy and identity servers (their balancer may be set up)."""
    async with manager.store() as inventory:
        proxies = select(Server.cluster_id).where(Server.role == Role.PROXY.value)
        nodes = select(Server.cluster_id).where(Server.role == Role.IDENTITY.value)
        names = await inventory.session.scalars(
            select(Cluster.name)
            .where(Cluster.id.in_(proxies), Cluster.id.in_(nodes))
            .order_by(Cluster.name)
        )
        return list(names)


@dataclass
class LbWatch:
    """The ``lb`` component of the watcher: one check per cluster and cycle."""

    manager: Manager
    settings: Settings
    holder: str
    lease_seconds: float
    cluster: str | None = None
    _access: dict[str, HostAccess] = field(default_factory=dict)

    async def cycle(self) -> list[tuple[str, float, Recorded, dict[str, Any]]]:
        """(cluster, seconds, recorded alerts, snapshot) per cluster checked."""
        names = await proxied_clusters(self.manager)
        if self.cluster is not None:
            names = [n for n in names if n == self.cluster]
        for gone in set(self._access) - set(names):
            await self._drop(gone)
        done = await asyncio.gather(*(self._cycle(n) for n in names))
        return [d for d in done if d is not None]

    async def _cycle(self, name: str) -> tuple[str, float, Recorded, dict[str, Any]] | None:
        started = time.monotonic()
        access = self._access.get(name)
        if access is None:
            access = await open_access(self.manager, name, settings=self.settings)
            self._access[name] = access
        try:
            if not await self._set_up(name, access):
                return None  # read only: no lease written for a balancer never set up
            lease = f"{lbfindings.COMPONENT}:{name}"
            if not await store.take_lease(
                self.manager, lease, self.holder, seconds=self.lease_seconds
            ):
                await self._drop(name, release=False)
                return None
            result = await check(
                self.manager, name, access, timeout=self.settings.watch_timeout, repair=True
            )
        except ClustermgrError as exc:
            log.warning("load balancer check of %s: %s", name, exc.message)
            return None
        except Exception:  # the LDAP checks of this cycle must not be lost with it
            log.exception("load balancer check of %s failed", name)
            return None
        if result.cycle is None:
            return None
        recorded = await store.record_cycle(self.manager, result.cycle)
        for alert in recorded.opened:
            log.warning("alert opened: %s: %s", alert.key, alert.message)
        for alert in recorded.resolved:
            log.warning("alert resolved: %s", alert.key)
        seconds = round(time.monotonic() - started, 3)
        return name, seconds, recorded, result.cycle.snapshot

    async def _set_up(self, name: str, access: HostAccess) -> bool:
        """Whether clustermgr set up this cluster's balancer (True when the proxy cannot
        say: the check then reports it)."""
        proxy = (await lb.desired(self.manager, name)).balancer.proxy
        try:
            conn = await access.connection(proxy)
            found = await gather(
                conn, upstreams(UPSTREAMS_FILE), timeout=self.settings.watch_timeout
            )
        except ClustermgrError:
            return True
        return bool(found)

    async def _drop(self, name: str, *, release: bool = True) -> None:
        access = self._access.pop(name, None)
        if access is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(access.close(), self.settings.watch_timeout)
        if release:
            await store.release_lease(self.manager, f"{lbfindings.COMPONENT}:{name}", self.holder)

    async def close(self) -> None:
        for name in list(self._access):
            await self._drop(name)
