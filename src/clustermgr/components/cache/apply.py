"""The cache chain: plan and apply, for every front end (status: :mod:`cachestatus`).

Apply runs the plans of :mod:`clustermgr.components.cache.plan` in turn: every
host makes its stunnel key and CSR; the manager signs the CSRs; the chain is
configured; and only once it verifies end to end on every node are the identity
servers pointed at it (:mod:`clustermgr.components.cache.cutover`).  Reverting
to LDAP sessions (``NATIVE_PERSISTENCE``) changes only ``oxCacheConfiguration``:
the chain keeps running.
"""

from __future__ import annotations

from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.cache import cutover, oxconfig
from clustermgr.components.cache import plan as cache_plan
from clustermgr.components.cache.desired import cache_clusters, cache_layout
from clustermgr.components.cache.model import TLS, CacheLayout, Provider
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.facts.base import gather
from clustermgr.pki import nodecerts
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult

__all__ = ["apply", "cache_clusters", "cache_layout", "parse_provider"]


def parse_provider(value: str) -> Provider:
    try:
        return Provider(value.upper().replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"unknown cache provider {value!r}",
            hint=f"one of: {', '.join(p.value for p in Provider)}",
        ) from None


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    provider: Provider = Provider.REDIS,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply the cache chain of a cluster.

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(
        manager, cluster_name, dry_run=dry_run, provider=provider, emit=emit, cancelled=cancelled
    )
    return await audit.audited_run(
        manager, work, actor=actor, action="cache.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    provider: Provider = Provider.REDIS,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply the cache chain of a cluster."""
    wanted = await cache_layout(manager, cluster_name, provider, keep_password=not dry_run)
    to_redis = provider is Provider.REDIS
    hosts = wanted.hosts if to_redis else [n.hostname for n in wanted.nodes]
    async with await open_access(manager, cluster_name, hosts) as access:
        reachable, failed = await _reachable(access, hosts, emit)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        # Written on one identity node (the first that answers): replication carries it.
        writer = next((h for h in hosts if h in reachable), hosts[0])
        switch = cache_plan.plan_cutover(cluster_name, wanted, writer)
        if not to_redis:
            # Back to LDAP sessions first, and only that: the chain keeps running, so
            # nothing the identity servers still use goes away under them.
            reports = [await executor.apply(_only(switch, reachable), dry_run=dry_run)]
            failed = {} if reachable else failed
        else:
            args = (cluster_name, wanted, reachable)
            reports = await _chain(manager, access, executor, *args, dry_run=dry_run)
            if dry_run:
                reports.append(await executor.apply(_only(switch, reachable), dry_run=True))
            else:
                problems = cutover.incomplete(reports, failed)
                built = not problems
                if built:
                    problems = await cutover.verify(access, cluster_name, wanted, emit)
                if problems:
                    outcome = Outcome.FAILED if built else Outcome.SKIPPED
                    reports.append(cutover.held_back(switch, problems, outcome, emit))
                else:
                    reports.append(await executor.apply(switch))
    done = ApplyReport.merged(f"cache of cluster {cluster_name}", reports, dry_run=dry_run)
    for host, reason in failed.items():
        done.results[host] = [
            StepResult(f"{host}:connect", host, "connect", Outcome.FAILED, reason),
        ]
    return done


async def _chain(
    manager: Manager,
    access: HostAccess,
    executor: Executor,
    cluster_name: str,
    wanted: CacheLayout,
    reachable: list[str],
    *,
    dry_run: bool,
) -> list[ApplyReport]:
    """Keys, certificates, then Redis, stunnel and twemproxy on the hosts reached."""
    keys = _only(cache_plan.plan_keys(cluster_name, wanted), reachable)
    reports: list[ApplyReport] = []
    if not dry_run and keys.steps:
        reports.append(await executor.apply(keys))
    if all(r.ok for r in reports):
        ca = await ensure_ca(manager, cluster_name)
        certs = await nodecerts.certificates(access, ca, reachable, TLS)
        services = {h: (await access.platform(h)).services for h in reachable}
        serving = await _serving(
            access, [n.hostname for n in wanted.nodes if n.hostname in reachable]
        )
        whole = cache_plan.plan_cache(
            cluster_name, wanted, ca.cert_pem.encode(), certs, services, serving=serving
        )
        if dry_run:
            whole = Plan(whole.title, (*keys.steps, *whole.steps))
            reports.append(await executor.apply(_only(whole, reachable), dry_run=True))
            return reports
        # The nodes' Redis and stunnel first, then the proxy: twemproxy's pool names a
        # node (a joining one too) only once its Redis answers through its tunnel.
        nodes = [h for h in reachable if h != wanted.proxy]
        reports.append(await executor.apply(_only(whole, nodes)))
        if reports[-1].ok and wanted.proxy in reachable:
            reports.append(await executor.apply(_only(whole, [wanted.proxy])))
    return reports


async def _serving(access: HostAccess, nodes: list[str]) -> bool:
    """The identity servers use the chain now (their provider is Redis), as the first
    node that answers tells; when none can tell, the chain is taken as serving (its
    restarts take turns, the careful way)."""
    for host in nodes:
        try:
            return (
                await gather(await access.connection(host), oxconfig.IN_USE) == Provider.REDIS.value
            )
        except ClustermgrError:
            continue
    return True


def _only(plan: Plan, hosts: list[str]) -> Plan:
    return Plan(plan.title, tuple(s for s in plan.steps if s.host in hosts))


async def _reachable(
    access: HostAccess, hosts: list[str], emit: Emit
) -> tuple[list[str], dict[str, str]]:
    ok: list[str] = []
    failed: dict[str, str] = {}
    for host in hosts:
        try:
            await access.connection(host)
        except ClustermgrError as exc:
            emit(Event(EventKind.HOST_FAILED, exc.message, host=host))
            failed[host] = exc.message
            continue
        ok.append(host)
    return ok, failed
