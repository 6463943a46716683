"""Read and change the cluster's load balancer settings (kept in the inventory)."""

from __future__ import annotations

from clustermgr.errors import InvalidInput
from clustermgr.inventory.lbsettings import LbSettings
from clustermgr.inventory.schemas import ClusterSettings, Role
from clustermgr.services.context import Manager


async def lb_settings(manager: Manager, cluster_name: str) -> LbSettings:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        return ClusterSettings.model_validate(cluster.settings or {}).lb


async def save_lb_settings(manager: Manager, cluster_name: str, settings: LbSettings) -> None:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        store.set_lb_settings(cluster, settings)


async def set_drained(manager: Manager, cluster_name: str, hostname: str, drained: bool) -> bool:
    """Mark ``hostname`` drained (or not); True when that changed anything.

    Refuses to drain the last identity node still in rotation.
    """
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        settings = ClusterSettings.model_validate(cluster.settings or {}).lb
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
        store.set_lb_settings(cluster, settings.model_copy(update={"drained": sorted(wanted)}))
        return True
