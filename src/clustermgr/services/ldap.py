"""LDAP replication: plan, apply (three phases) and status, for every front end.

Apply runs three plans in turn, because each needs the previous one finished on
every node: prepare (modules, accesslog, overlays, replicator, server ids),
join (nodes not yet replicating load the source's ``o=gluu``), agreements.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from clustermgr.components.ldap import csn, reload, tls
from clustermgr.components.ldap import plan as ldap_plan
from clustermgr.components.ldap.model import (
    LDAPI,
    OX_LDAP_PROPERTIES,
    PROBE_BRANCH,
    REPLICATOR_DN,
    SUFFIX,
    Member,
    Replication,
    ReplicationSettings,
)
from clustermgr.errors import ClustermgrError, InvalidInput, RemoteFileNotFound
from clustermgr.facts.base import gather
from clustermgr.facts.ldap import LDAPSEARCH_ROOT, SLAPD_CONFIG
from clustermgr.inventory.schemas import Role
from clustermgr.pki.ca import Ca
from clustermgr.pki.sign import sign_csr, still_good
from clustermgr.pki.store import ensure_ca
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.remote.pool import run_on_hosts
from clustermgr.services.access import HostAccess
from clustermgr.services.context import Manager
from clustermgr.services.servers import open_access

REPLICATOR_SECRET = "ldap-replicator"  # noqa: S105 (a name, not a password)


async def replication(
    manager: Manager, cluster_name: str, settings: ReplicationSettings
) -> tuple[Replication, list[str]]:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        password = await store.cluster_secret(
            cluster, REPLICATOR_SECRET, lambda: Secret(secrets.token_urlsafe(24))
        )
        identity = [s for s in cluster.servers if Role(s.role) is Role.IDENTITY]
        if not identity:
            raise InvalidInput(f"cluster {cluster_name!r} has no identity servers")
        # Assigned on first plan too: a plan shows the ids apply will use.
        ids = await store.ldap_server_ids(cluster, identity)
    members = tuple(Member(s.hostname, ids[s.hostname]) for s in identity)
    return Replication(members, password, settings), [s.hostname for s in identity]


async def ldap_facts(access: HostAccess, hostname: str) -> ldap_plan.LdapFacts:
    conn = await access.connection(hostname)
    config = await gather(conn, SLAPD_CONFIG)
    try:
        properties: str | None = (await conn.get(OX_LDAP_PROPERTIES)).decode(errors="replace")
    except RemoteFileNotFound:
        properties = None
    return ldap_plan.LdapFacts(config, properties)


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


async def replicate(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    settings: ReplicationSettings | None = None,
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    rep, hosts = await replication(manager, cluster_name, settings or ReplicationSettings())
    async with await open_access(manager, cluster_name, hosts) as access:
        run = _Run(manager, access, emit, cancelled)
        facts = await run.facts(hosts)
        ca = await ensure_ca(manager, cluster_name)
        if dry_run:
            whole = ldap_plan.plan_ldap(cluster_name, rep, facts)
            certs = await _certificates(run, ca, list(facts))
            steps = (
                *tls.plan_keys(cluster_name, rep).steps,
                *tls.plan_tls(cluster_name, ca.cert_pem.encode(), certs).steps,
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
    results: dict[str, list[StepResult]] = {h: [] for h in hosts if h in facts}
    prepare = ldap_plan.plan_prepare(cluster, rep, facts)
    keys = [s for s in tls.plan_keys(cluster, rep).steps if s.host in facts]
    prepare = Plan(prepare.title, (*prepare.steps, *keys))
    reports = [await run.executor().apply(prepare)]
    if reports[-1].ok:
        certs = await _certificates(run, ca, list(facts))
        plan = tls.plan_tls(cluster, ca.cert_pem.encode(), certs)
        reports.append(await run.executor().apply(plan))
    joining = ldap_plan.joining(rep, facts)
    if reports[-1].ok and joining:
        source = ldap_plan.source_of(rep, facts)
        export = await export_directory(run.access, source.hostname)
        reports.append(await run.executor().apply(ldap_plan.plan_join(cluster, rep, facts, export)))
    if all(r.ok for r in reports):
        reports.append(await run.executor().apply(ldap_plan.plan_agreements(cluster, rep, facts)))
    for report in reports:
        for host, rs in report.results.items():
            results.setdefault(host, []).extend(rs)
    return ApplyReport(f"LDAP replication of cluster {cluster}", False, results)


async def export_directory(access: HostAccess, host: str) -> bytes:
    """``o=gluu`` of ``host`` as LDIF, its contextCSN no older than its entries.

    The live contextCSN is read first, then slapcat reads the database (while
    slapd runs): see :func:`reload.with_context_csn`.
    """
    conn = await access.connection(host)
    live = parse_context_csn((await conn.run(CONTEXT_CSN)).check().stdout)
    done = (await conn.run(Command.of("slapcat", "-o", "ldif-wrap=no", "-b", SUFFIX))).check()
    return reload.with_context_csn(done.stdout.encode(), list(live.values()))


async def _certificates(run: _Run, ca: Ca, hosts: list[str]) -> dict[str, bytes]:
    """Each node's certificate: the one it has if still good, else its CSR signed now.

    Only the CSR and the (public) certificate are read from the node, never its key.
    A node without a CSR yet (dry run) gets an empty placeholder.
    """
    certs: dict[str, bytes] = {}
    for host in hosts:
        conn = await run.access.connection(host)
        try:
            csr = await conn.get(tls.CSR_FILE)
        except RemoteFileNotFound:
            certs[host] = b""
            continue
        try:
            current: bytes | None = await conn.get(tls.CERT_FILE)
        except RemoteFileNotFound:
            current = None
        if current is not None and still_good(ca, current, csr, hostname=host):
            certs[host] = current
        else:
            certs[host] = sign_csr(ca, csr, hostname=host).encode()
    return certs


# --- status -----------------------------------------------------------------


@dataclass(frozen=True)
class NodeStatus:
    host: str
    #: server id (hex, as in the CSN) -> contextCSN
    context_csn: dict[str, str]
    error: str | None = None
    #: Whether the replicator binds on this node with the cluster's password; None
    #: when the node could not be asked.  Consumers keep replicating over sessions
    #: bound before a password change, so only a bind check shows the break
    #: before the next reconnect (restart, network hiccup) silently stops replication.
    replicator_binds: bool | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "context_csn": self.context_csn,
            "error": self.error,
            "replicator_binds": self.replicator_binds,
        }


def parse_context_csn(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        if line.lower().startswith("contextcsn:"):
            value = line.split(":", 1)[1].strip()
            parts = value.split("#")
            if len(parts) == 4:
                out[parts[2]] = value
    return out


CONTEXT_CSN = Command.of(
    *LDAPSEARCH_ROOT, "-H", "ldapi:///", "-b", SUFFIX, "-s", "base", "contextCSN"
)


async def status(manager: Manager, cluster_name: str, *, probe: bool = True) -> dict[str, object]:
    """contextCSN per node and server id, per-pair catch-up and lag; a probe's time.

    ``pairs`` are measured before the probe writes, so the probe does not show as lag.
    ``problems`` lists, in words and without any secret, what needs an apply or a look.
    """
    rep, hosts = await replication(manager, cluster_name, ReplicationSettings())
    async with await open_access(manager, cluster_name, hosts) as access:
        nodes = await asyncio.gather(*(_node_status(access, h, rep.password) for h in hosts))
        in_sync = len({tuple(sorted(n.context_csn.items())) for n in nodes if not n.error}) == 1
        answered = {n.host: csn.by_server_id(n.context_csn) for n in nodes if not n.error}
        ids = {m.hostname: m.server_id for m in rep.members}
        latency = await _probe(access, hosts) if probe else None
    pairs = csn.pairs(answered, ids)
    return {
        "cluster": cluster_name,
        "nodes": [n.as_dict() for n in nodes],
        "server_ids": ids,
        "pairs": [p.as_dict() for p in pairs],
        "context_csn_equal": in_sync,
        "probe_seconds": latency,
        "problems": problems(nodes, probed=probe, latency=latency),
    }


def problems(nodes: Sequence[NodeStatus], *, probed: bool, latency: float | None) -> list[str]:
    """What status found wrong, one sentence each (hostnames only, never a password)."""
    out = []
    for node in nodes:
        if node.error:
            out.append(f"{node.host}: cannot read the directory: {node.error}")
        elif node.replicator_binds is False:
            out.append(
                f"{node.host}: the replicator cannot bind with the cluster's password "
                "(run ldap apply to restore it)"
            )
    if probed and latency is None:
        out.append(f"a probe write did not reach every node within {PROBE_TIMEOUT:g} s")
    return out


_WHOAMI = ("ldapwhoami", "-x", "-H", LDAPI, "-D", REPLICATOR_DN, "-y", "/dev/stdin")


async def _node_status(access: HostAccess, host: str, password: Secret) -> NodeStatus:
    """contextCSN, and whether the replicator binds (its password only on stdin)."""
    try:
        conn = await access.connection(host)
        out = (await conn.run(CONTEXT_CSN)).check().stdout
        binds = (await conn.run(Command.of(*_WHOAMI, stdin=password))).ok
    except ClustermgrError as exc:
        return NodeStatus(host, {}, exc.message)
    return NodeStatus(host, parse_context_csn(out), replicator_binds=binds)


_PROBE_WRITE = """\
set -e
{ ldapsearch -Q -Y EXTERNAL -H ldapi:/// -b "$1" -s base dn >/dev/null 2>&1 ||
  printf 'dn: %s\\nobjectClass: organizationalUnit\\nou: replication-probe\\n' "$1" |
  ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null; }
printf 'dn: ou=%s,%s\\nobjectClass: organizationalUnit\\nou: %s\\n' "$2" "$1" "$2" |
  ldapadd -Q -Y EXTERNAL -H ldapi:/// >/dev/null
"""
PROBE_TIMEOUT = 30.0


async def _probe(access: HostAccess, hosts: list[str]) -> float | None:
    """Write under the probe branch on the first node; seconds until every node has it."""
    name = f"probe-{secrets.token_hex(4)}"
    dn = f"ou={name},{PROBE_BRANCH}"
    first = await access.connection(hosts[0])
    started = time.monotonic()
    (await first.run(Command.script(_PROBE_WRITE, PROBE_BRANCH, name))).check()
    try:
        pending = set(hosts[1:])
        while pending and time.monotonic() - started < PROBE_TIMEOUT:
            for host in list(pending):
                conn = await access.connection(host)
                found = await conn.run(
                    Command.of(*LDAPSEARCH_ROOT, "-H", "ldapi:///", "-b", dn, "-s", "base", "dn")
                )
                if found.ok:
                    pending.discard(host)
            if pending:
                await asyncio.sleep(0.05)
        return None if pending else round(time.monotonic() - started, 3)
    finally:
        await first.run(Command.of("ldapdelete", "-Q", "-Y", "EXTERNAL", "-H", "ldapi:///", dn))


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else f"{type(exc).__name__}: {exc}"
