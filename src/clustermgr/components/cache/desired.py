"""The cache chain a cluster should have, read from the inventory (no SSH).

Apply, status and the watcher all start here: which clusters have a cache, and
each one's layout (its identity nodes, its proxy, its Redis password).
"""

from __future__ import annotations

import secrets

from clustermgr.components.cache.model import REDIS_SECRET, CacheLayout, Provider, layout
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import nodes
from clustermgr.redact import Secret
from clustermgr.topology import Role

#: Stands for the password a plan would make: only an apply makes (and seals) it, so
#: planning never makes a cluster look as if it had a cache to watch.
_NOT_MADE_YET = Secret("made-at-the-first-apply", label="redis")


async def cache_layout(
    manager: Manager,
    cluster_name: str,
    provider: Provider = Provider.REDIS,
    *,
    keep_password: bool = False,
) -> CacheLayout:
    """The cluster's desired cache chain; the Redis password is made and sealed by the
    first ``keep_password`` call (an apply)."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        if keep_password:
            password = await store.cluster_secret(
                cluster, REDIS_SECRET, lambda: Secret.held(secrets.token_urlsafe(24), label="redis")
            )
        else:
            password = await store.find_cluster_secret(cluster, REDIS_SECRET) or _NOT_MADE_YET
        identity = [s.hostname for s in nodes(cluster.servers, Role.IDENTITY)]
        proxies = [s.hostname for s in nodes(cluster.servers, Role.PROXY)]
    if not identity:
        raise InvalidInput(f"cluster {cluster_name!r} has no identity servers")
    if not proxies:
        raise InvalidInput(f"cluster {cluster_name!r} has no proxy server (twemproxy runs there)")
    return layout(identity, proxies[0], password, provider)


async def cache_clusters(manager: Manager) -> list[str]:
    """Clusters whose cache chain was applied (their Redis password exists)."""
    async with manager.store() as store:
        return await store.clusters_with_secret(REDIS_SECRET)
