"""LDAP replication status: contextCSN per node and server id, catch-up per pair, and a
probe write's replication time."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr.components.ldap import csn
from clustermgr.components.ldap.apply import CONTEXT_CSN, replication
from clustermgr.components.ldap.model import (
    LDAPI,
    PROBE_BRANCH,
    REPLICATOR_DN,
    ReplicationSettings,
)
from clustermgr.components.ldap.replicated import is_set_up
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.facts.base import gather
from clustermgr.facts.ldap import ldapsearch_root, root_script
from clustermgr.redact import Secret
from clustermgr.remote.command import Command


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


@dataclass(frozen=True)
class LdapStatus:
    cluster: str
    nodes: list[NodeStatus]
    #: hostname -> LDAP server id
    server_ids: dict[str, int]
    pairs: list[csn.PairStatus]
    context_csn_equal: bool
    probe_seconds: float | None
    #: What needs an apply or a look, one sentence each, without any secret.
    problems: list[str]

    @property
    def ok(self) -> bool:
        """A status job succeeds when status found nothing wrong."""
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "nodes": [n.as_dict() for n in self.nodes],
            "server_ids": self.server_ids,
            "pairs": [p.as_dict() for p in self.pairs],
            "context_csn_equal": self.context_csn_equal,
            "probe_seconds": self.probe_seconds,
            "problems": self.problems,
        }


async def status(manager: Manager, cluster_name: str, *, probe: bool = True) -> LdapStatus:
    """contextCSN per node and server id, per-pair catch-up and lag; a probe's time.

    ``pairs`` are measured before the probe writes, so the probe does not show as lag.
    """
    rep, hosts = await replication(manager, cluster_name, ReplicationSettings())
    if not await is_set_up(manager, cluster_name):
        return not_set_up(cluster_name)
    async with await open_access(manager, cluster_name, hosts) as access:
        nodes = await asyncio.gather(*(_node_status(access, h, rep.password) for h in hosts))
        in_sync = len({tuple(sorted(n.context_csn.items())) for n in nodes if not n.error}) == 1
        answered = {n.host: csn.by_server_id(n.context_csn) for n in nodes if not n.error}
        ids = {m.hostname: m.server_id for m in rep.members}
        latency = await probe_latency(access, hosts) if probe else None
    return LdapStatus(
        cluster_name,
        list(nodes),
        ids,
        csn.pairs(answered, ids),
        in_sync,
        latency,
        problems(nodes, probed=probe, latency=latency),
    )


def not_set_up(cluster_name: str) -> LdapStatus:
    """The status of a cluster whose replication was never applied: nothing to read yet."""
    problem = (
        f"replication is not set up on {cluster_name}: no identity node has an LDAP server id "
        f"yet (plan it with `clustermgr ldap plan {cluster_name}`, then apply it)"
    )
    return LdapStatus(cluster_name, [], {}, [], False, None, [problem])


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
        found = await gather(conn, CONTEXT_CSN, timeout=None)
        binds = (await conn.run(Command.of(*_WHOAMI, stdin=password))).ok
    except ClustermgrError as exc:
        return NodeStatus(host, {}, exc.message)
    return NodeStatus(host, found, replicator_binds=binds)


_PROBE_WRITE = """\
set -e
{ ldapsearch $LDAPI -b "$1" -s base dn >/dev/null 2>&1 ||
  printf 'dn: %s\\nobjectClass: organizationalUnit\\nou: replication-probe\\n' "$1" |
  ldapadd $LDAPI >/dev/null; }
printf 'dn: ou=%s,%s\\nobjectClass: organizationalUnit\\nou: %s\\n' "$2" "$1" "$2" |
  ldapadd $LDAPI >/dev/null
"""
#: Remove the probe entry ($2), and any a probe could not remove (its node stopped
#: answering) that is older than ten minutes.
_PROBE_CLEANUP = """\
ldapdelete $LDAPI "$2"
old=$(date -u -d '-10 min' +%Y%m%d%H%M%SZ)
ldapsearch -LLL -o ldif-wrap=no $LDAPI -b "$1" -s one \
  "(createTimestamp<=$old)" dn 2>/dev/null | sed -n 's/^dn: //p' |
  ldapdelete $LDAPI >/dev/null 2>&1 || true
"""
PROBE_TIMEOUT = 30.0


async def probe_latency(access: HostAccess, hosts: list[str]) -> float | None:
    """Write under the probe branch on the first node; seconds until every node has it."""
    seen = await probe(access, hosts[0], hosts[1:], timeout=PROBE_TIMEOUT)
    if any(t is None for t in seen.values()):
        return None
    return max((t for t in seen.values() if t is not None), default=0.0)


async def probe(
    access: HostAccess,
    source: str,
    targets: Sequence[str],
    *,
    timeout: float,
    command_timeout: float | None = None,
) -> dict[str, float | None]:
    """Write an entry under the probe branch on ``source``, remove it after.

    Returns, per target, the seconds from the start of the write until the
    target had the entry, or None when it did not within ``timeout`` (or could not be asked).
    Raises when the write itself fails.
    """
    name = f"probe-{secrets.token_hex(4)}"
    dn = f"ou={name},{PROBE_BRANCH}"
    first = await access.connection(source)
    seen: dict[str, float | None] = dict.fromkeys(targets)
    started = time.monotonic()
    write = root_script(_PROBE_WRITE, PROBE_BRANCH, name)
    (await first.run(write, timeout=command_timeout)).check()
    written = time.monotonic()
    try:
        search = ldapsearch_root("-b", dn, "-s", "base", "dn")

        async def has(host: str) -> bool:
            conn = await access.connection(host)
            return (await conn.run(search, timeout=command_timeout)).ok

        pending = list(targets)
        while pending and time.monotonic() - written < timeout:
            found = await asyncio.gather(*(has(h) for h in pending), return_exceptions=True)
            now = time.monotonic()
            for host, result in zip(list(pending), found, strict=True):
                if isinstance(result, BaseException) and not isinstance(result, Exception):
                    raise result
                if result is True:
                    seen[host] = round(now - started, 3)
                if result is True or isinstance(result, Exception):
                    pending.remove(host)
            if pending:
                await asyncio.sleep(0.05)
        return seen
    finally:
        cleanup = root_script(_PROBE_CLEANUP, PROBE_BRANCH, dn)
        await first.run(cleanup, timeout=command_timeout)
