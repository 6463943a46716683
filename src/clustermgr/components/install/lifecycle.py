"""The install's parts in taking a node out: with ``uninstall``, Gluu Server and its
data are removed from the node, when it answers."""

from __future__ import annotations

from typing import Any

from clustermgr.components.install.apply import remove
from clustermgr.core.manager import Manager
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import Node
from clustermgr.plan.model import ApplyReport
from clustermgr.topology import Role


async def leave(ctx: JobContext[Any], node: Node) -> ApplyReport:
    title = f"remove Gluu Server from {node.hostname}"
    if not node.uninstall or not node.reachable or node.role is not Role.IDENTITY:
        return ApplyReport(title, False, {})
    return await remove(
        ctx.manager,
        ctx.cluster,
        node.hostname,
        actor=ctx.actor,
        emit=ctx.emit,
        cancelled=ctx.cancelled,
    )


async def effects(manager: Manager, cluster: str, node: Node) -> list[str]:
    if not node.uninstall or node.role is not Role.IDENTITY:
        return []
    if not node.reachable:
        return [f"Gluu Server stays installed on {node.hostname}: it does not answer"]
    return [f"Gluu Server and its data on {node.hostname} (uninstalled)"]
