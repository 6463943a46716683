"""Read and change the cluster's load balancer settings (kept in the inventory)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.settings import LbSettings
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.models import Cluster, Server
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.topology import Role


async def lb_settings(manager: Manager, cluster_name: str) -> LbSettings:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        return _section(cluster.settings)


async def save_lb_settings(manager: Manager, cluster_name: str, settings: LbSettings) -> None:
    """Keep the person's choices; whether the balancer is set up stays as ``lb apply`` left it."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        applied = _section(cluster.settings).applied
        kept = settings.model_copy(update={"applied": applied})
        store.set_component_settings(cluster, COMPONENT, _dump(kept))


async def mark_applied(manager: Manager, cluster_name: str) -> None:
    """Record that ``lb apply`` set the balancer up (the watcher checks it from now on)."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        settings = _section(cluster.settings)
        if not settings.applied:
            changed = settings.model_copy(update={"applied": True})
            store.set_component_settings(cluster, COMPONENT, _dump(changed))


async def applied_clusters(manager: Manager) -> list[str]:
    """Clusters whose balancer ``lb apply`` set up, with a proxy and identity servers
    still (one query, no SSH)."""
    async with manager.store() as inventory:
        proxies = select(Server.cluster_id).where(Server.role == Role.PROXY.value)
        nodes = select(Server.cluster_id).where(Server.role == Role.IDENTITY.value)
        rows = await inventory.session.execute(
            select(Cluster.name, Cluster.settings)
            .where(Cluster.id.in_(proxies), Cluster.id.in_(nodes))
            .order_by(Cluster.name)
        )
        return [name for name, settings in rows if _section(settings).applied]


async def set_drained(manager: Manager, cluster_name: str, hostname: str, drained: bool) -> bool:
    """Mark ``hostname`` drained (or not); True when that changed anything.

    Refuses to drain the last identity node still in rotation.
    """
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        settings = _section(cluster.settings)
        identity = [s.hostname for s in cluster.servers if Role(s.role) is Role.IDENTITY]
        if hostname not in identity:
            raise InvalidInput(f"{hostname!r} is not an identity server of {cluster_name!r}")
        now = set(settings.drained)
        wanted = now | {hostname} if drained else now - {hostname}
        if wanted == now:
            return False
        if not set(identity) - wanted:
            raise InvalidInput(
                f"draining {hostname} would leave no identity node behind the load balancer"
            )
        changed = settings.model_copy(update={"drained": sorted(wanted)})
        store.set_component_settings(cluster, COMPONENT, _dump(changed))
        return True


def _section(settings: dict[str, Any] | None) -> LbSettings:
    return LbSettings.model_validate(
        ClusterSettings.model_validate(settings or {}).section(COMPONENT)
    )


def _dump(settings: LbSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude_defaults=True)
