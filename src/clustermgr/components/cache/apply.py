"""The cache chain: plan and apply, for every front end (status: :mod:`cachestatus`).

Apply runs two plans: every host makes its stunnel key and CSR; the manager
signs the CSRs with the cluster CA; then the chain is configured and the
identity servers are pointed at it.  Reverting to LDAP sessions
(``NATIVE_PERSISTENCE``) changes only ``oxCacheConfiguration``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from clustermgr.audit import service as audit
from clustermgr.components.cache import plan as cache_plan
from clustermgr.components.cache.model import REDIS_SECRET, TLS, CacheLayout, Provider, layout
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.pki import nodecerts
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult
from clustermgr.redact import Secret
from clustermgr.topology import Role

#: Stands for the password a plan would make: only an apply makes (and seals) it, so
#: planning never makes a cluster look as if it had a cache to watch.
_NOT_MADE_YET = Secret("(made at the first apply)", label="redis")


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
        identity = [s.hostname for s in cluster.servers if Role(s.role) is Role.IDENTITY]
        proxies = [s.hostname for s in cluster.servers if Role(s.role) is Role.PROXY]
    if not identity:
        raise InvalidInput(f"cluster {cluster_name!r} has no identity servers")
    if not proxies:
        raise InvalidInput(f"cluster {cluster_name!r} has no proxy server (twemproxy runs there)")
    return layout(identity, proxies[0], password, provider)


async def cache_clusters(manager: Manager) -> list[str]:
    """Clusters whose cache chain was applied (their Redis password exists)."""
    async with manager.store() as store:
        return await store.clusters_with_secret(REDIS_SECRET)


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
    if dry_run:
        return await work
    return await audit.audited_run(
        manager, work, actor=actor, action="cache.apply", target=cluster_name
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
    hosts = wanted.hosts if provider is Provider.REDIS else [wanted.nodes[0].hostname]
    async with await open_access(manager, cluster_name, hosts) as access:
        reachable, failed = await _reachable(access, hosts, emit)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        keys = _only(cache_plan.plan_keys(cluster_name, wanted), reachable)
        if provider is not Provider.REDIS:
            keys = Plan(keys.title, ())
        reports: list[ApplyReport] = []
        if not dry_run and keys.steps:
            reports.append(await executor.apply(keys))
        if all(r.ok for r in reports):
            ca = await ensure_ca(manager, cluster_name)
            certs = await nodecerts.certificates(access, ca, reachable, TLS)
            services = {h: (await access.platform(h)).services for h in reachable}
            whole = cache_plan.plan_cache(
                cluster_name, wanted, ca.cert_pem.encode(), certs, services
            )
            if dry_run:
                whole = Plan(whole.title, (*keys.steps, *whole.steps))
            reports.append(await executor.apply(_only(whole, reachable), dry_run=dry_run))
    results: dict[str, list[StepResult]] = {h: [] for h in reachable}
    for report in reports:
        for host, rs in report.results.items():
            results.setdefault(host, []).extend(rs)
    for host, reason in failed.items():
        results[host] = [
            StepResult(f"{host}:connect", host, "connect", Outcome.FAILED, reason),
        ]
    return ApplyReport(f"cache of cluster {cluster_name}", dry_run, results)


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
