"""The load balancer: plan and apply NGINX on the proxy, for every front end.

The desired balancer comes from the inventory: the proxy, the identity nodes,
the cluster's LB settings (locations, certificate source, drained nodes) and a
health probe of every node made just before rendering, so the upstreams never
send traffic to a node known to fail.

An apply runs in three phases: keys (nginx on the proxy, the proxy's key, each
identity node's web key), the nodes' web certificates from the cluster CA, then
the proxy's config, which verifies them.  The nodes are probed after their
certificates are in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from clustermgr.audit import service as audit
from clustermgr.components.lb import health
from clustermgr.components.lb import plan as lb_plan
from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.model import (
    CERT_FILE,
    KEY_FILE,
    TLS,
    Backend,
    BackendState,
    Balancer,
)
from clustermgr.components.lb.probe import probe_all
from clustermgr.components.lb.settings import CertificateSource, LbSettings
from clustermgr.components.lb.settingsstore import mark_applied
from clustermgr.core.access import HostAccess, get_cluster, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.facts.base import gather
from clustermgr.facts.os import OS_RELEASE
from clustermgr.inventory.schemas import issuer_url
from clustermgr.pki import nodecerts
from clustermgr.pki.ca import Ca
from clustermgr.pki.nodeweb import NODE_WEB_TLS
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Emit, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult
from clustermgr.topology import HTTP, HTTPS, NGINX_STATUS, Role


@dataclass(frozen=True)
class Desired:
    """The cluster's balancer (backends all ``up``) and its settings."""

    balancer: Balancer
    settings: LbSettings
    #: The cluster CA's certificate (PEM): what every node's HTTPS is verified with.
    ca_pem: str
    #: What every node's OpenID discovery should name: the cluster's public hostname.
    issuer: str


async def desired(manager: Manager, cluster_name: str) -> Desired:
    view = await get_cluster(manager, cluster_name)
    proxies = view.nodes(Role.PROXY)
    identity = view.nodes(Role.IDENTITY)
    if not proxies:
        raise InvalidInput(f"cluster {cluster_name!r} has no proxy server to balance from")
    if not identity:
        raise InvalidInput(f"cluster {cluster_name!r} has no identity servers to balance")
    settings = LbSettings.model_validate(view.settings.section(COMPONENT))
    cert_file, key_file = CERT_FILE, KEY_FILE
    if settings.certificate is CertificateSource.IMPORTED:
        if not settings.cert_file or not settings.key_file:
            raise InvalidInput("an imported certificate needs cert_file and key_file")
        cert_file, key_file = settings.cert_file, settings.key_file
    proxy = proxies[0].hostname
    public = view.public_hostname or proxy
    balancer = Balancer(
        proxy=proxy,
        server_name=public,
        # A joining node is set up (its certificate) but sent nothing until the node-add
        # admits it (a member).
        backends=tuple(
            Backend(
                s.hostname,
                s.address,
                HTTPS.port,
                BackendState.UP if s.state.serves else BackendState.JOINING,
            )
            for s in identity
        ),
        https_port=HTTPS.port,
        http_port=HTTP.port,
        status_port=NGINX_STATUS.port,
        cert_file=cert_file,
        key_file=key_file,
        locations=dict(settings.locations),
    )
    ca = await ensure_ca(manager, cluster_name)
    return Desired(balancer, settings, ca.cert_pem, issuer_url(public))


async def with_health(want: Desired, timeout: float) -> Balancer:
    """The balancer with each backend's state: drained, or as its health probe says now."""
    probes = await probe_all(want.balancer.backends, timeout, want.ca_pem)
    backends = health.states(want.balancer.backends, probes, want.settings.drained)
    return replace(want.balancer, backends=backends)


async def proxy_facts(access: HostAccess, host: str) -> lb_plan.ProxyFacts:
    conn = await access.connection(host)
    platform = await access.platform(host)
    family = (await gather(conn, OS_RELEASE)).family
    return lb_plan.ProxyFacts(family=family, init=platform.init)


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply NGINX on the proxy.

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="lb.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply NGINX on the proxy and the nodes' web certificates."""
    want = await desired(manager, cluster_name)
    proxy = want.balancer.proxy
    nodes = [b.hostname for b in want.balancer.backends]
    from_ca = want.settings.certificate is CertificateSource.CA
    async with await open_access(manager, cluster_name, [proxy, *nodes]) as access:
        try:
            facts = await proxy_facts(access, proxy)
        except ClustermgrError as exc:
            return _unreachable(cluster_name, proxy, dry_run, exc.message)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        prepare = lb_plan.plan_prepare(cluster_name, want.balancer, facts, make_key=from_ca)
        reports: list[ApplyReport] = []
        if not dry_run:
            reports.append(await executor.apply(prepare))
            if not _host_ok(reports[-1], proxy):
                return ApplyReport.merged(prepare.title, reports)
        ca = await ensure_ca(manager, cluster_name)
        ca_pem = ca.cert_pem.encode()
        certs, inits = await _node_certificates(access, ca, nodes)
        if not dry_run:  # a node whose key step failed has no CSR: nothing to sign
            certs = {h: c for h, c in certs.items() if c}
        web = lb_plan.plan_node_web(cluster_name, ca_pem, certs, inits)
        if not dry_run:
            reports.append(await executor.apply(web))
        balancer = await with_health(want, manager.settings.watch_timeout)
        cert = lb_plan.Certificate(ca_pem)
        if from_ca:
            pem = await nodecerts.certificate(access, ca, proxy, TLS, name=balancer.server_name)
            cert = lb_plan.Certificate(ca_pem, pem)
        configure = lb_plan.plan_configure(cluster_name, balancer, facts, cert)
        if dry_run:
            whole = Plan(configure.title, (*prepare.steps, *web.steps, *configure.steps))
            return await executor.apply(whole, dry_run=True)
        reports.append(await executor.apply(configure))
    done = ApplyReport.merged(configure.title, reports)
    if _host_ok(done, proxy) and len(reports) == 3:
        await mark_applied(manager, cluster_name)
    return done


async def _node_certificates(
    access: HostAccess, ca: Ca, nodes: list[str]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Each reachable node's web certificate (b"" before its CSR), and its init system.

    A node out of reach is left out: its key step already reports it.
    """
    certs: dict[str, bytes] = {}
    inits: dict[str, str] = {}
    for host in nodes:
        try:
            inits[host] = (await access.platform(host)).init
            certs[host] = await nodecerts.certificate(access, ca, host, NODE_WEB_TLS)
        except ClustermgrError:
            inits.pop(host, None)
    return certs, inits


def _host_ok(report: ApplyReport, host: str) -> bool:
    return not any(
        r.outcome in (Outcome.FAILED, Outcome.SKIPPED) for r in report.results.get(host, [])
    )


def _unreachable(cluster: str, host: str, dry_run: bool, reason: str) -> ApplyReport:
    failed = StepResult(f"{host}:gather-facts", host, "gather facts", Outcome.FAILED, reason)
    return ApplyReport(f"load balancer of cluster {cluster}", dry_run, {host: [failed]})
