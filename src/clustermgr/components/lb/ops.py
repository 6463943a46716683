"""Maintenance of the load balancer: drain and undrain a node, a rolling restart.

A drain is kept in the cluster's LB settings (so the watcher and every later
apply keep the node out), written to the upstreams (validated, reloaded), and
finished only when NGINX's workers of the previous config have finished their
requests.  An undrained node is put back only if its health check passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import plan as lb_plan
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.model import IDENTITY_APP_SERVICE, Backend
from clustermgr.components.lb.probe import probe_all
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.plan.events import Emit, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, Step, StepResult

#: How long a restarted identity app may take to pass its health check.
HEALTHY_WITHIN = 120.0


async def update_upstreams(
    manager: Manager,
    cluster: str,
    *,
    settle: bool = False,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Write the upstreams as the settings and the nodes' health say now."""
    want = await lb.desired(manager, cluster)
    balancer = await lb.with_health(want, manager.settings.watch_timeout)
    proxy = balancer.proxy
    async with await open_access(manager, cluster, [proxy]) as access:
        platform = await access.platform(proxy)
        steps = [lb_plan.upstreams_step(balancer, platform.init)]
        if settle:
            steps.append(lb_plan.settle_step(proxy))
        plan = Plan(f"load balancer of cluster {cluster}: upstreams", tuple(steps))
        return await Executor(access.connection, emit, cancelled=cancelled).apply(plan)


async def set_rotation(
    manager: Manager,
    cluster: str,
    node: str,
    *,
    drained: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Drain ``node`` (or put it back) and write the upstreams; audited under ``actor``."""
    return await audit.audited_run(
        manager,
        _set_rotation(manager, cluster, node, drained=drained, emit=emit, cancelled=cancelled),
        actor=actor,
        action="lb.drain" if drained else "lb.undrain",
        target=cluster,
        detail={"node": node},
    )


async def _set_rotation(
    manager: Manager,
    cluster: str,
    node: str,
    *,
    drained: bool,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    await lb_settings.set_drained(manager, cluster, node, drained)
    return await update_upstreams(manager, cluster, settle=drained, emit=emit, cancelled=cancelled)


async def wait_healthy(
    backend: Backend, *, ca_pem: str, timeout: float, within: float
) -> StepResult:
    """Probe ``backend`` (verified with the cluster CA ``ca_pem``) until it passes."""
    started = time.monotonic()
    host = backend.hostname
    while True:
        probe = (await probe_all([backend], timeout, ca_pem))[host]
        if probe.healthy:
            waited = round(time.monotonic() - started, 1)
            return StepResult(
                f"{host}:wait-for-health",
                host,
                "wait for health",
                Outcome.CHANGED,
                f"healthy after {waited} s",
            )
        if time.monotonic() - started > within:
            return StepResult(
                f"{host}:wait-for-health",
                host,
                "wait for health",
                Outcome.FAILED,
                f"not healthy within {within:g} s: {probe.error}",
            )
        await asyncio.sleep(0.5)


def _merge(results: dict[str, list[StepResult]], report: ApplyReport) -> bool:
    for host, rs in report.results.items():
        results.setdefault(host, []).extend(rs)
    return report.ok


async def rolling_restart(
    manager: Manager,
    cluster: str,
    *,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
    within: float = HEALTHY_WITHIN,
) -> ApplyReport:
    """:func:`roll`, audited under ``actor``."""
    return await audit.audited_run(
        manager,
        roll(manager, cluster, emit=emit, cancelled=cancelled, within=within),
        actor=actor,
        action="lb.rolling-restart",
        target=cluster,
    )


async def roll(
    manager: Manager,
    cluster: str,
    *,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
    within: float = HEALTHY_WITHIN,
) -> ApplyReport:
    """Restart the identity app one node at a time, each drained while it restarts.

    Per node: drain (and wait for its requests in flight), restart the app, wait
    until its health check passes.  Putting a node back and draining the next one
    is one reload (every reload makes NGINX close idle keep-alive connections), so
    N nodes cost N + 1 reloads.  The roll stops at the first node that fails; that
    node is put back all the same (it serves only once healthy).
    """
    want = await lb.desired(manager, cluster)
    nodes = [b for b in want.balancer.backends if b.hostname not in want.settings.drained]
    if len(nodes) < 2:
        raise InvalidInput("a rolling restart needs two identity nodes in rotation")
    title = f"rolling restart of the identity app of cluster {cluster}"
    results: dict[str, list[StepResult]] = {}
    restarted: str | None = None
    for node in nodes:
        if cancelled():
            break
        if restarted is not None:
            await lb_settings.set_drained(manager, cluster, restarted, False)
        restarted = node.hostname
        await lb_settings.set_drained(manager, cluster, restarted, True)
        report = await update_upstreams(manager, cluster, settle=True, emit=emit)
        if not _merge(results, report):
            break
        if not _merge(results, await _restart(manager, cluster, restarted, emit)):
            break
        waited = await wait_healthy(
            node, ca_pem=want.ca_pem, timeout=manager.settings.watch_timeout, within=within
        )
        results.setdefault(restarted, []).append(waited)
        if waited.outcome is Outcome.FAILED:
            break
    if restarted is not None:
        _merge(
            results,
            await _set_rotation(manager, cluster, restarted, drained=False, emit=emit),
        )
    return ApplyReport(title, False, results)


async def _restart(manager: Manager, cluster: str, node: str, emit: Emit) -> ApplyReport:
    async with await open_access(manager, cluster, [node]) as access:
        platform = await access.platform(node)
        command = platform.services.command(IDENTITY_APP_SERVICE, "restart")
        step = Step(
            node,
            "restart the identity app",
            "drained: no request is on its way to it",
            commands=(command.wrapped(platform.gluu_prefix()) if platform.gluu_root else command,),
        )
        return await Executor(access.connection, emit).apply(Plan("restart", (step,)))
