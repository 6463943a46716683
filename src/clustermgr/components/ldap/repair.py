"""Repair LDAP replication: compare the nodes' data, re-initialise a node from a peer.

``compare`` digests every identity node's ``o=gluu`` on the node itself (only
counts and digests come back) and says whether the data is identical.

``reinit`` replaces one node's directory with a healthy peer's export.  It
refuses bad input before touching anything, says what will be lost (the
node's changes that never reached the source), loads the export through the
executor (the step restores the previous data on any failure), then waits
until the node has caught up with its peers and agrees with the source, and
only then removes the backup of the old data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clustermgr.audit import service as audit
from clustermgr.components.ldap import apply as ldap
from clustermgr.components.ldap import compare as cmp
from clustermgr.components.ldap import csn, reload
from clustermgr.components.ldap.model import ACCESSLOG_SUFFIX, SUFFIX, Member, ReplicationSettings
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ApplyFailed, ClustermgrError, InvalidInput
from clustermgr.facts.base import gather
from clustermgr.facts.ldap import SLAPD_CONFIG, SLAPD_CONFIG_OFFLINE, SlapdConfig
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult

#: How long a re-initialised node may take to catch up and agree with its source.
CONVERGE_TIMEOUT = 60.0


async def identity_members(manager: Manager, cluster: str) -> list[Member]:
    rep, _ = await ldap.replication(manager, cluster, ReplicationSettings())
    return list(rep.members)


async def _digest(access: HostAccess, host: str, names: Sequence[str] = ()) -> cmp.NodeDigest | str:
    """The node's digest, or why it could not be read (one node never hides the others)."""
    try:
        conn = await access.connection(host)
        result = await conn.run(cmp.read(names))
        if not result.ok:
            return f"cannot read {SUFFIX}: {result.stderr_tail(3) or f'exit {result.exit_status}'}"
        return cmp.parse(result.stdout)
    except ClustermgrError as exc:
        return exc.message
    except ValueError as exc:
        return str(exc)


async def compare_on(
    access: HostAccess, hosts: Sequence[str], reference: str | None = None
) -> cmp.Comparison:
    digests = await asyncio.gather(*(_digest(access, h) for h in hosts))
    nodes = dict(zip(hosts, digests, strict=True))
    result = cmp.compare(nodes, reference=reference)
    dns: dict[str, str] = {}
    for host, keys in cmp.holders(nodes, result).items():
        named = await _digest(access, host, keys)
        if isinstance(named, cmp.NodeDigest):
            dns.update(named.dns)
    return result.named(dns)


async def compare(manager: Manager, cluster: str) -> cmp.Comparison:
    """Compare the data of every identity node (the first in server id order is the reference)."""
    members = sorted(await identity_members(manager, cluster), key=lambda m: m.server_id)
    hosts = [m.hostname for m in members]
    async with await open_access(manager, cluster, hosts) as access:
        return await compare_on(access, hosts)


# --- re-initialise ------------------------------------------------------------


@dataclass(frozen=True)
class ReinitPreview:
    """What re-initialising ``node`` from ``source`` would lose, as far as it can be measured."""

    node: str
    source: str
    server_id: int
    #: Seconds by which the node's contextCSN for its own server id is newer than the
    #: source's; 0 when the source has every change the node made; None when unknown.
    ahead_seconds: float | None
    #: Entries of the node versus the source, per kind (missing, extra, different...).
    differences: dict[str, int]
    #: Why the node's data could not be read (then ``differences`` is empty).
    node_error: str | None = None

    def text(self) -> str:
        lines = [
            f"Re-initialising {self.node} from {self.source} replaces {self.node}'s {SUFFIX} "
            f"with {self.source}'s and empties its accesslog: every change on {self.node} that "
            f"has not reached {self.source} is lost."
        ]
        if self.ahead_seconds is None:
            lines.append(
                f"Cannot tell from contextCSN how many of {self.node}'s own changes "
                f"(server id {self.server_id}) {self.source} lacks: it may lack all of them."
            )
        elif self.ahead_seconds > 0:
            lines.append(
                f"{self.node} has changes of its own (server id {self.server_id}) that "
                f"{self.source} lacks: up to {self.ahead_seconds:g} s of writes."
            )
        else:
            lines.append(
                f"By contextCSN, {self.source} has every change {self.node} made itself "
                f"(server id {self.server_id})."
            )
        if self.node_error:
            lines.append(f"{self.node}'s data cannot be read now: {self.node_error}")
        elif self.differences:
            parts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.differences.items()))
            lines.append(f"Compared now, {self.node}'s entries versus {self.source}'s: {parts}.")
        else:
            lines.append(f"Compared now, {self.node} holds the same entries as {self.source}.")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "node": self.node,
            "source": self.source,
            "server_id": self.server_id,
            "ahead_seconds": self.ahead_seconds,
            "differences": self.differences,
            "node_error": self.node_error,
            "text": self.text(),
        }


def validate(members: Sequence[Member], node: str, source: str) -> tuple[Member, Member]:
    """The two members; InvalidInput when the request cannot be right."""
    if node == source:
        raise InvalidInput(f"a node cannot be re-initialised from itself ({node})")
    by_name = {m.hostname: m for m in members}
    for role, name in (("node", node), ("source", source)):
        if name not in by_name:
            raise InvalidInput(
                f"{role} {name!r} is not an identity server of this cluster",
                hint=f"identity servers: {', '.join(by_name) or 'none'}",
            )
    return by_name[node], by_name[source]


async def check_request(
    manager: Manager, cluster: str, node: str, source: str, confirmed: bool
) -> None:
    """Refuse a re-initialisation request early, from the inventory alone (no SSH)."""
    validate(await identity_members(manager, cluster), node, source)
    if not confirmed:
        raise InvalidInput(
            f"re-initialising {node} from {source} discards every change on {node} "
            f"that has not reached {source}",
            hint="confirm to go ahead (ldap reinit without --yes shows how far it is ahead)",
        )


async def _context_csn(access: HostAccess, host: str) -> dict[int, csn.Csn]:
    conn = await access.connection(host)
    found = await gather(conn, ldap.CONTEXT_CSN, timeout=None)
    return csn.by_server_id(found)


async def _preview(access: HostAccess, node: Member, source: Member) -> ReinitPreview:
    """Refuses (ApplyFailed) when the source cannot be read or holds no directory."""
    got = await _digest(access, source.hostname)
    if isinstance(got, str) or SUFFIX not in got.subtrees:
        why = got if isinstance(got, str) else f"it holds no {SUFFIX} entry"
        raise ApplyFailed(
            f"refusing to re-initialise {node.hostname}: the source {source.hostname} "
            f"is not healthy ({why})",
            hint="choose another source, or repair the source first",
        )
    mine = await _digest(access, node.hostname)
    differences: dict[str, int] = {}
    if isinstance(mine, cmp.NodeDigest):
        pair = cmp.compare({node.hostname: mine, source.hostname: got}, reference=source.hostname)
        differences = dict(pair.nodes[0].totals)
    return ReinitPreview(
        node.hostname,
        source.hostname,
        node.server_id,
        await _ahead(access, node, source),
        differences,
        mine if isinstance(mine, str) else None,
    )


async def _ahead(access: HostAccess, node: Member, source: Member) -> float | None:
    """Seconds of the node's own writes (its server id) the source lacks; None: cannot tell."""
    try:
        mine = await _context_csn(access, node.hostname)
        theirs = await _context_csn(access, source.hostname)
    except ClustermgrError:
        return None
    have, known = mine.get(node.server_id), theirs.get(node.server_id)
    if have is None:
        return 0.0  # the node never made a change of its own that it still records
    if known is None:
        return None
    return max(0.0, round((have.time - known.time).total_seconds(), 6))


async def preview(manager: Manager, cluster: str, node: str, source: str) -> ReinitPreview:
    members = await identity_members(manager, cluster)
    target, origin = validate(members, node, source)
    async with await open_access(manager, cluster, [node, source]) as access:
        return await _preview(access, target, origin)


async def _config(access: HostAccess, host: str) -> SlapdConfig:
    """cn=config from slapd, or from its files when slapd does not answer (a broken node)."""
    conn = await access.connection(host)
    try:
        return await gather(conn, SLAPD_CONFIG)
    except ClustermgrError:
        return await gather(conn, SLAPD_CONFIG_OFFLINE)


async def reinit(
    manager: Manager,
    cluster: str,
    node: str,
    source: str,
    *,
    approve: Callable[[ReinitPreview], bool],
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Re-initialise ``node`` from ``source`` once ``approve`` accepts what will be lost.

    Writes one audit entry under ``actor``.
    """
    work = _reinit(manager, cluster, node, source, approve=approve, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager,
        work,
        actor=actor,
        action="ldap.reinit",
        target=cluster,
        detail={"node": node, "source": source},
    )


async def _reinit(
    manager: Manager,
    cluster: str,
    node: str,
    source: str,
    *,
    approve: Callable[[ReinitPreview], bool],
    emit: Emit,
    cancelled: Callable[[], bool],
) -> ApplyReport:
    members = await identity_members(manager, cluster)
    target, origin = validate(members, node, source)
    hosts = [m.hostname for m in members]
    async with await open_access(manager, cluster, hosts) as access:
        loss = await _preview(access, target, origin)
        if not approve(loss):
            raise InvalidInput(
                f"not confirmed: {loss.text()}", hint="confirm with --yes (API: confirm true)"
            )
        emit(Event(EventKind.STEP_OUTPUT, loss.text(), host=node))
        config = await _config(access, node)
        main, log = config.database(SUFFIX), config.database(ACCESSLOG_SUFFIX)
        if main is None or not main.directory:
            raise ApplyFailed(f"{node} has no database directory for {SUFFIX}")
        logdir = log.directory if log else None
        export = await ldap.export_directory(access, source)
        executor = Executor(access.connection, emit, cancelled=cancelled)
        services = (await access.platform(node)).services
        plan = reload.plan_reinit(cluster, node, source, main.directory, export, services, logdir)
        report = await executor.apply(plan)
        results = {node: list(report.results.get(node, []))}
        if report.ok:
            converged = await _converge(access, members, target, origin, emit)
            results[node].append(converged)
            if converged.outcome is Outcome.CHANGED:
                cleanup = reload.discard_backup_step(node, main.directory, logdir)
                done = await executor.apply(Plan(plan.title, (cleanup,)))
                results[node].extend(done.results.get(node, []))
    return ApplyReport(plan.title, False, results)


async def _converge(
    access: HostAccess, members: Sequence[Member], node: Member, source: Member, emit: Emit
) -> StepResult:
    """Wait until ``node`` caught up with every peer's changes and agrees with ``source``."""
    title = f"verify {node.hostname} caught up and agrees with {source.hostname}"
    step_id = f"{node.hostname}:verify-convergence"
    emit(Event(EventKind.STEP_STARTED, title, host=node.hostname, step=step_id))
    started = time.monotonic()
    ids = {m.hostname: m.server_id for m in members}
    while True:
        why = await _not_converged(access, ids, node.hostname, source.hostname)
        if why is None or time.monotonic() - started > CONVERGE_TIMEOUT:
            break
        await asyncio.sleep(0.5)
    if why is None:
        outcome, reason = Outcome.CHANGED, "caught up with every peer, same data as the source"
    else:
        outcome = Outcome.FAILED
        reason = (
            f"not converged after {CONVERGE_TIMEOUT:g} s: {why}; the previous data stays "
            f"in the backup ({reload.BACKUP}) next to the database directory"
        )
    emit(
        Event(
            EventKind.STEP_FINISHED,
            f"{title}: {outcome.value} ({reason})",
            host=node.hostname,
            step=step_id,
            outcome=outcome,
        )
    )
    return StepResult(
        step_id, node.hostname, title, outcome, reason, duration=time.monotonic() - started
    )


async def _not_converged(
    access: HostAccess, ids: dict[str, int], node: str, source: str
) -> str | None:
    answered: dict[str, dict[int, csn.Csn]] = {}
    for host in ids:
        try:
            answered[host] = await _context_csn(access, host)
        except ClustermgrError:
            continue  # a peer that is down cannot be waited for
    if node not in answered:
        return f"{node} does not answer"
    behind = [p.peer for p in csn.pairs(answered, ids) if p.host == node and not p.caught_up]
    if behind:
        return f"{node} lacks changes of {', '.join(behind)}"
    pair = await compare_on(access, [node, source], reference=source)
    if not pair.identical:
        return f"{node}'s data differs from {source}'s ({pair.verdict})"
    return None
