"""The cache's parts in a node's life.  Its apply is its join (the node's Redis and
tunnel, its place in twemproxy's pool, then the chain verified end to end from every
node, the new one included, before the cut-over) and its leave (the pool and the
proxy's stunnel without it)."""

from __future__ import annotations

from clustermgr.core.manager import Manager
from clustermgr.jobs.lifecycle import Node
from clustermgr.topology import Role


async def effects(manager: Manager, cluster: str, node: Node) -> list[str]:
    if node.role is not Role.IDENTITY:
        return []
    return [
        f"its share of the cache's keys: the sessions held in {node.hostname}'s Redis "
        "(their users sign in again)"
    ]
