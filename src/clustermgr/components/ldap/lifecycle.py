"""LDAP replication's parts in a node's life.  Its apply is its join (a node that does
not replicate yet loads o=gluu from a replicating source before any agreement, then
every member gets agreements with every other) and its leave (the other members'
agreements are rewritten whole, without the leaving node; its server id stays retired)."""

from __future__ import annotations

from clustermgr.components.ldap.replicated import replicated_members
from clustermgr.core.manager import Manager
from clustermgr.jobs.lifecycle import Node
from clustermgr.topology import Role


async def effects(manager: Manager, cluster: str, node: Node) -> list[str]:
    if node.role is not Role.IDENTITY:
        return []
    members = await replicated_members(manager, cluster)
    others = sorted(h for h in members if h != node.hostname)
    if node.hostname not in members or not others:
        return []
    return [
        f"its replication agreements: {', '.join(others)} stop replicating with "
        f"{node.hostname}; changes made on it and not yet replicated are lost",
        f"its LDAP server id {members[node.hostname]} is retired (never given out again)",
    ]
