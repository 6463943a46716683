"""The load balancer's parts in a node's life: it admits an added node once the node's
health check passes, and stops sending requests to a node being taken out first."""

from __future__ import annotations

from typing import Any

from clustermgr.components.lb import apply as lb
from clustermgr.components.lb.ops import HEALTHY_WITHIN, update_upstreams, wait_healthy
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import Node
from clustermgr.plan.model import ApplyReport, Outcome, StepResult


async def admit(ctx: JobContext[Any], node: Node) -> ApplyReport:
    """Wait for the new member's health check, then write the upstreams with it."""
    want = await lb.desired(ctx.manager, ctx.cluster)
    title = f"load balancer of cluster {ctx.cluster}: admit {node.hostname}"
    backend = next((b for b in want.balancer.backends if b.hostname == node.hostname), None)
    if backend is None:
        reason = "not one of the balanced identity nodes"
        result = StepResult(
            f"{node.hostname}:admit", node.hostname, "admit", Outcome.SKIPPED, reason
        )
        return ApplyReport(title, False, {node.hostname: [result]})
    healthy = await wait_healthy(
        backend,
        ca_pem=want.ca_pem,
        timeout=ctx.manager.settings.watch_timeout,
        within=HEALTHY_WITHIN,
    )
    waited = ApplyReport(title, False, {node.hostname: [healthy]})
    if healthy.outcome is Outcome.FAILED:
        return waited
    written = await update_upstreams(
        ctx.manager, ctx.cluster, emit=ctx.emit, cancelled=ctx.cancelled
    )
    return ApplyReport.merged(title, [waited, written])


async def leave(ctx: JobContext[Any], node: Node) -> ApplyReport:
    """Write the upstreams without the leaving node, then wait for NGINX's workers of
    the previous configuration to finish the requests they hold."""
    return await update_upstreams(
        ctx.manager, ctx.cluster, settle=True, emit=ctx.emit, cancelled=ctx.cancelled
    )
