"""Which clusters replicate, and their members: read from the inventory (no SSH).

Only ``ldap apply`` stores server ids, so an identity server with one is a
replicating member, and a cluster with such a member is set up.
"""

from __future__ import annotations

from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.inventory.models import Cluster, LdapServerId, Server
from clustermgr.inventory.schemas import NodeState
from clustermgr.topology import Role


async def replicated_members(manager: Manager, cluster: str) -> dict[str, int]:
    """Identity servers of ``cluster`` with an LDAP server id: hostname -> id (read only)."""
    async with manager.store() as inventory:
        rows = await inventory.session.execute(
            select(Server.hostname, LdapServerId.server_id)
            .join(LdapServerId, LdapServerId.server_id_ref == Server.id)
            .join(Cluster, Cluster.id == Server.cluster_id)
            .where(Cluster.name == cluster, Server.role == Role.IDENTITY.value)
            .where(Server.state != NodeState.LEAVING.value)
            .order_by(Server.hostname)
        )
        return {hostname: server_id for hostname, server_id in rows}


async def replicated_clusters(manager: Manager) -> list[str]:
    """Clusters with replication configured (some identity server has a server id)."""
    async with manager.store() as inventory:
        names = await inventory.session.scalars(
            select(Cluster.name)
            .join(Server, Server.cluster_id == Cluster.id)
            .join(LdapServerId, LdapServerId.server_id_ref == Server.id)
            .where(Server.role == Role.IDENTITY.value)
            .distinct()
            .order_by(Cluster.name)
        )
        return list(names)


async def is_set_up(manager: Manager, cluster: str) -> bool:
    """``cluster`` replicates: some identity server of it has a server id."""
    return bool(await replicated_members(manager, cluster))
