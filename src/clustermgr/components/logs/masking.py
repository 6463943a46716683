"""The cluster's own secrets, held so that the records stored mask them.

:func:`clustermgr.redact.redact` masks the secrets this process holds: those it
opened from the vault or made.  A watcher that never needed a cluster's secrets
(the LDAP admin's password, the replicator's, Redis') would not know them, so the
collector opens them all once when it starts reading the cluster's logs.
"""

from __future__ import annotations

from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.inventory.models import ClusterSecret


async def hold_cluster_secrets(manager: Manager, cluster_name: str) -> int:
    """Open every secret of ``cluster_name`` (each becomes one the process holds); how
    many."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        names = list(
            await store.session.scalars(
                select(ClusterSecret.name).where(ClusterSecret.cluster_id == cluster.id)
            )
        )
        for name in names:
            await store.find_cluster_secret(cluster, name)
    return len(names)
