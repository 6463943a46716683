"""The watcher's data check: the nodes' entries compared, when replication is at rest.

Equal contextCSNs do not prove equal data (an entry loaded with slapadd, a
conflict resolved differently on one node).  So every few cycles, when every
node answers and all report the same contextCSN (nothing in flight), the
watcher runs the same comparison as ``ldap compare`` (counts and digests, no
values) and opens ``data:H`` for each node whose data differs from the
majority.  A cycle that cannot judge (replication in flight, a node down, a
node unreadable, or a write while the data was compared: the contextCSNs are read
again after it) leaves the earlier verdict as it was and tries again next cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap.compare import Comparison
from clustermgr.components.ldap.nodecheck import NodeCheck, NodeState
from clustermgr.core.access import HostAccess
from clustermgr.monitor.alerts import Finding, Severity

KEY = "data"


def at_rest(nodes: Sequence[NodeCheck]) -> bool:
    """Every node answers and all hold the same contextCSN: a comparison means something."""
    if len(nodes) < 2 or any(n.state is not NodeState.OK for n in nodes):
        return False
    return len({tuple(sorted(n.context_csn.items())) for n in nodes}) == 1


def still_at_rest(before: Sequence[NodeCheck], after: Sequence[NodeCheck]) -> bool:
    """Still at rest at the same contextCSN as ``before``: nothing was written while the
    data was compared (a write in between would show as a difference that is not one)."""
    return at_rest(before) and at_rest(after) and _csn(before) == _csn(after)


def _csn(nodes: Sequence[NodeCheck]) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(n.context_csn.items())) for n in nodes}


def findings(result: Comparison) -> list[Finding] | None:
    """One finding per node whose data differs; None when the comparison could not judge."""
    if result.verdict not in ("identical", "different"):
        return None
    flagged = {
        n.host for n in result.nodes if n.entries or any(n.host in s.nodes for s in result.subtrees)
    }
    healthy = [n.host for n in result.nodes if n.host not in flagged]
    out = []
    for node in result.nodes:
        if node.host not in flagged:
            continue
        totals = ", ".join(f"{n} {kind}" for kind, n in sorted(node.totals.items()) if n)
        fix = f"ldap reinit {node.host} --from {healthy[0]}" if healthy else "ldap reinit"
        text = (
            f"the data on {node.host} differs from the other nodes although replication is "
            f"at rest ({totals or 'subtree digests differ'}); see ldap compare, repair with {fix}"
        )
        out.append(Finding(f"{KEY}:{node.host}", Severity.CRITICAL, text))
    return out


async def check(access: HostAccess, hosts: Sequence[str]) -> list[Finding] | None:
    return findings(await ldap_repair.compare_on(access, hosts))
