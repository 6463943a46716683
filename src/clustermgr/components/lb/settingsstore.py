"""Read and change the cluster's load balancer settings (kept in the inventory)."""

from __future__ import annotations

from typing import Any

from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.settings import LbSettings
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.topology import Role


async def lb_settings(manager: Manager, cluster_name: str) -> LbSettings:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        return _section(cluster.settings)


async def save_lb_settings(manager: Manager, cluster_name: str, settings: LbSettings) -> None:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        store.set_component_settings(cluster, COMPONENT, _dump(settings))


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
