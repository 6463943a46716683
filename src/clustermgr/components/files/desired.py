"""What the cluster files should be: the sealed copies and the nodes that carry them."""

from __future__ import annotations

from dataclasses import dataclass, field

from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import nodes
from clustermgr.services import clusterfiles
from clustermgr.topology import CLUSTER_FILES_SECRET, Role, cluster_files_of


@dataclass(frozen=True)
class Desired:
    cluster: str
    #: Path -> sealed content, in the table's order; None before any was read.
    sealed: dict[str, bytes] | None = field(repr=False)
    #: The servers that carry cluster files, in the inventory's order (the first
    #: identity node first), with their roles.
    nodes: dict[str, Role]

    @property
    def first(self) -> str | None:
        """The first identity node: the one whose files are sealed."""
        return next((h for h, r in self.nodes.items() if r is Role.IDENTITY), None)


async def sealed_clusters(manager: Manager) -> list[str]:
    """The clusters whose cluster files are sealed (one query, no SSH)."""
    async with manager.store() as store:
        return await store.clusters_with_secret(CLUSTER_FILES_SECRET)


async def desired(manager: Manager, cluster_name: str) -> Desired:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        kept = await clusterfiles.sealed(store, cluster)
        carrying = {
            s.hostname: Role(s.role)
            for s in nodes(cluster.servers)
            if cluster_files_of(Role(s.role))
        }
    sealed = None if kept is None else {p: f.content for p, f in kept.items()}
    return Desired(cluster_name, sealed, carrying)
