"""LDAP replication: plan and apply (three phases), for every front end (status: :mod:`status`).

Apply runs three plans in turn, because each needs the previous one finished on
every node: prepare (modules, accesslog, overlays, replicator, server ids),
join (nodes not yet replicating load the source's ``o=gluu``), agreements.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from clustermgr.audit import service as audit
from clustermgr.components.ldap import ids as ldap_ids
from clustermgr.components.ldap import plan as ldap_plan
from clustermgr.components.ldap import reload, tls
from clustermgr.components.ldap.model import (
    OX_LDAP_PROPERTIES,
    SUFFIX,
    Member,
    Replication,
    ReplicationSettings,
)
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput, RemoteFileNotFound
from clustermgr.facts.base import gather
from clustermgr.facts.ldap import (
    SLAPD_CONFIG,
    context_csn,
)
from clustermgr.facts.services import ServiceControl
from clustermgr.inventory.schemas import nodes
from clustermgr.pki import nodecerts
from clustermgr.pki.ca import Ca
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.remote.pool import run_on_hosts
from clustermgr.topology import Role

REPLICATOR_SECRET = "ldap-replicator"  # noqa: S105 (a name, not a password)


async def replication(
    manager: Manager, cluster_name: str, settings: ReplicationSettings, *, keep_ids: bool = False
) -> tuple[Replication, list[str]]:
    """The cluster's desired replication; new server ids are stored only with ``keep_ids``
    (an apply), so planning or reading never makes a cluster look replicating."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        password = await store.cluster_secret(
            cluster, REPLICATOR_SECRET, lambda: Secret.held(secrets.token_urlsafe(24))
        )
        identity = nodes(cluster.servers, Role.IDENTITY)
        if not identity:
            raise InvalidInput(f"cluster {cluster_name!r} has no identity servers")
        ids = await ldap_ids.server_ids(store, cluster, identity, keep=keep_ids)
    members = tuple(Member(s.hostname, ids[s.hostname]) for s in identity)
    return Replication(members, password, settings), [s.hostname for s in identity]


async def ldap_facts(access: HostAccess, hostname: str) -> ldap_plan.LdapFacts:
    conn = await access.connection(hostname)
    config = await gather(conn, SLAPD_CONFIG)
    try:
        properties: str | None = (await conn.get(OX_LDAP_PROPERTIES)).decode(errors="replace")
    except RemoteFileNotFound:
        properties = None
    return ldap_plan.LdapFacts(config, properties, (await access.platform(hostname)).services)


@dataclass
class _Run:
    manager: Manager
    access: HostAccess
    emit: Emit
    cancelled: Callable[[], bool]
    failed: dict[str, str] = field(default_factory=dict)

    async def facts(self, hosts: list[str]) -> dict[str, ldap_plan.LdapFacts]:
        gathered = await run_on_hosts(
            hosts,
            lambda h: ldap_facts(self.access, h),
            limit=self.manager.settings.parallel_hosts,
        )
        for host, exc in gathered.failed.items():
            self.emit(Event(EventKind.HOST_FAILED, _describe(exc), host=host))
        self.failed = {h: _describe(e) for h, e in gathered.failed.items()}
        return dict(gathered.succeeded)

    def executor(self) -> Executor:
        return Executor(self.access.connection, self.emit, cancelled=self.cancelled)


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    settings: ReplicationSettings | None = None,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply LDAP replication.

    An apply (not a dry run) writes one audit entry under ``actor``.
    """
    work = _plan_or_apply(
        manager, cluster_name, dry_run=dry_run, settings=settings, emit=emit, cancelled=cancelled
    )
    return await audit.audited_run(
        manager, work, actor=actor, action="ldap.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    settings: ReplicationSettings | None = None,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    rep, hosts = await replication(
        manager, cluster_name, settings or ReplicationSettings(), keep_ids=not dry_run
    )
    async with await open_access(manager, cluster_name, hosts) as access:
        run = _Run(manager, access, emit, cancelled)
        facts = await run.facts(hosts)
        ca = await ensure_ca(manager, cluster_name)
        if dry_run:
            whole = ldap_plan.plan_ldap(cluster_name, rep, facts)
            certs = await _certificates(run, ca, list(facts))
            steps = (
                *tls.plan_keys(cluster_name, rep).steps,
                *tls.plan_tls(cluster_name, ca.cert_pem.encode(), certs, _services(facts)).steps,
                *whole.steps,
            )
            plan = Plan(whole.title, tuple(s for s in steps if s.host in facts))
            report = await run.executor().apply(plan, dry_run=True)
        else:
            report = await _apply(run, cluster_name, rep, hosts, facts, ca)
    for host, reason in run.failed.items():
        report.results[host] = [
            StepResult(f"{host}:gather-facts", host, "gather facts", Outcome.FAILED, reason)
        ]
    return report


async def _apply(
    run: _Run,
    cluster: str,
    rep: Replication,
    hosts: list[str],
    facts: dict[str, ldap_plan.LdapFacts],
    ca: Ca,
) -> ApplyReport:
    # Every host reached, in order, even one without a step.
    reached = ApplyReport("", False, {h: [] for h in hosts if h in facts})
    prepare = ldap_plan.plan_prepare(cluster, rep, facts)
    keys = [s for s in tls.plan_keys(cluster, rep).steps if s.host in facts]
    prepare = Plan(prepare.title, (*prepare.steps, *keys))
    reports = [await run.executor().apply(prepare)]
    if reports[-1].ok:
        certs = await _certificates(run, ca, list(facts))
        plan = tls.plan_tls(cluster, ca.cert_pem.encode(), certs, _services(facts))
        reports.append(await run.executor().apply(plan))
    joining = ldap_plan.joining(rep, facts)
    if reports[-1].ok and joining:
        source = ldap_plan.source_of(rep, facts)
        export = await export_directory(run.access, source.hostname)
        reports.append(await run.executor().apply(ldap_plan.plan_join(cluster, rep, facts, export)))
    if all(r.ok for r in reports):
        reports.append(await run.executor().apply(ldap_plan.plan_agreements(cluster, rep, facts)))
    return ApplyReport.merged(f"LDAP replication of cluster {cluster}", [reached, *reports])


def _services(facts: Mapping[str, ldap_plan.LdapFacts]) -> dict[str, ServiceControl]:
    return {host: fact.services for host, fact in facts.items()}


async def export_directory(access: HostAccess, host: str) -> bytes:
    """``o=gluu`` of ``host`` as LDIF, its contextCSN no older than its entries.

    The live contextCSN is read first, then slapcat reads the database (while
    slapd runs): see :func:`reload.with_context_csn`.
    """
    conn = await access.connection(host)
    live = await gather(conn, CONTEXT_CSN, timeout=None)
    done = (await conn.run(Command.of("slapcat", "-o", "ldif-wrap=no", "-b", SUFFIX))).check()
    return reload.with_context_csn(done.stdout.encode(), list(live.values()))


async def _certificates(run: _Run, ca: Ca, hosts: list[str]) -> dict[str, bytes]:
    return await nodecerts.certificates(run.access, ca, hosts, tls.NODE_TLS)


# --- status -----------------------------------------------------------------


#: The suffix's contextCSN by server id, read as a fact.
CONTEXT_CSN = context_csn(SUFFIX)


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else f"{type(exc).__name__}: {exc}"
