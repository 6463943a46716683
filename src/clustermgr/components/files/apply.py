"""Plan and apply the cluster files: every node gets the sealed copies.

A cluster whose files are not sealed yet (Gluu Server installed outside clustermgr)
has them read from its first identity node by its first apply, and sealed; its plan
shows them going to every node without sealing anything.
"""

from __future__ import annotations

from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.files.desired import desired
from clustermgr.components.files.model import plan_files
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.plan.events import Emit, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.remote.pool import run_on_hosts
from clustermgr.services import clusterfiles


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or write the sealed files where a node's differ; an apply
    writes one audit entry."""
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="files.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit,
    cancelled: Callable[[], bool],
) -> ApplyReport:
    title = f"cluster files of {cluster_name}"
    want = await desired(manager, cluster_name)
    if not want.nodes:
        return ApplyReport(title, dry_run, {})
    async with await open_access(manager, cluster_name, list(want.nodes)) as access:
        roots = await run_on_hosts(
            list(want.nodes),
            lambda host: _root(access, host),
            limit=manager.settings.parallel_hosts,
        )
        failed = {
            host: [_failed(host, "read the node's platform", _why(exc))]
            for host, exc in roots.failed.items()
        }
        sealed = want.sealed
        if sealed is None:
            first = want.first
            if first is None or first not in roots.succeeded:
                reason = "it does not answer" if first else "the cluster has no identity node"
                row = _failed(first or cluster_name, "read the first node's cluster files", reason)
                return ApplyReport(title, dry_run, {**failed, row.host: [row]})
            try:
                conn = await access.connection(first)
                sealed = await clusterfiles.read_from(conn, first, roots.succeeded[first])
            except ClustermgrError as exc:
                row = _failed(first, "read the first node's cluster files", exc.message)
                return ApplyReport(title, dry_run, {**failed, first: [row]})
            if not dry_run:
                async with manager.store() as store:
                    await clusterfiles.seal(store, await store.cluster(cluster_name), sealed)
        nodes = {h: (want.nodes[h], root) for h, root in roots.succeeded.items()}
        plan = plan_files(cluster_name, sealed, {h: nodes[h] for h in want.nodes if h in nodes})
        executor = Executor(access.connection, emit, cancelled=cancelled)
        report = await executor.apply(plan, dry_run=dry_run)
    return ApplyReport.merged(title, [report, ApplyReport(title, dry_run, failed)], dry_run=dry_run)


async def _root(access: HostAccess, host: str) -> str | None:
    return (await access.platform(host)).gluu_root


def _why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else type(exc).__name__


def _failed(host: str, title: str, reason: str) -> StepResult:
    return StepResult(f"{host}:files", host, title, Outcome.FAILED, reason)
