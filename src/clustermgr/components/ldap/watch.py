"""The LDAP part of the watcher (component ``ldap``): every replicating cluster.

Each check of a cluster whose identity nodes have LDAP server ids (``ldap
apply`` or ``plan`` ran):

1. every node is checked at once (:mod:`~clustermgr.components.ldap.nodecheck`):
   SSH, slapd over ldapi, contextCSN, each agreement from the consumer's side;
   short timeouts, so a stopped or partitioned node costs seconds, not a
   stalled cycle;
2. the findings (with the last data comparison's) and lags make the first
   cycle, recorded before the probe runs, so a fault shows within one
   interval plus one check (about 10 s with the defaults);
3. one node (in turn, check after check) writes a probe entry, timed until
   every other node has it: the second cycle, judging only that probe.

Every ``watch_compare_every`` checks, when replication is at rest, the nodes'
data is compared (:mod:`~clustermgr.components.ldap.datacheck`): its findings
count like the others and stay as they were between its runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clustermgr.components.ldap import datacheck
from clustermgr.components.ldap import status as ldap
from clustermgr.components.ldap.findings import (
    COMPONENT,
    Divergence,
    Probe,
    evaluate,
    probe_findings,
    probe_key,
    probe_measures,
    probes_list,
)
from clustermgr.components.ldap.nodecheck import NodeCheck, NodeState, check_node
from clustermgr.components.ldap.replicated import replicated_clusters, replicated_members
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError
from clustermgr.monitor.alerts import Finding
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.watching import check_settings, close_access
from clustermgr.settings import Settings

log = logging.getLogger(__name__)

#: A data comparison of the nodes: findings (keys ``data:H``), or None when it could
#: not judge.  Called every ``compare_every`` checks while replication is at rest.
Compare = Callable[[HostAccess, Sequence[str]], Awaitable[Sequence[Finding] | None]]


@dataclass
class _ClusterWatch:
    """What the watcher keeps per cluster between checks."""

    members: dict[str, int]
    access: HostAccess
    divergence: Divergence
    probes: dict[str, Probe] = field(default_factory=dict)
    turn: int = 0
    compare_findings: list[Finding] = field(default_factory=list)
    cycles: int = 0
    #: The check of the last comparison (0: none yet).
    compared: int = 0


class LdapWatch:
    """The ``ldap`` component of the watcher."""

    name = COMPONENT

    def __init__(
        self,
        manager: Manager,
        *,
        compare: Compare | None = datacheck.check,
        compare_every: int | None = None,
    ) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.compare = compare
        self.compare_every = (
            manager.settings.watch_compare_every if compare_every is None else compare_every
        )
        self._watches: dict[str, _ClusterWatch] = {}
        #: Probes given up on (their source stopped answering), still ending.
        self._stray: set[asyncio.Task[Any]] = set()

    def interval(self, settings: Settings) -> float:
        return settings.watch_interval

    async def clusters(self) -> list[str]:
        return await replicated_clusters(self.manager)

    async def check(self, cluster: str) -> AsyncIterator[Cycle]:
        watch = await self._watch(cluster)
        if watch is None:
            return
        watch.cycles += 1
        nodes = await self._check_nodes(watch)
        now = utcnow()
        await self._compare(watch, nodes)
        result = evaluate(watch.members, nodes, watch.divergence, now, probes=watch.probes)
        findings = [*result.findings, *watch.compare_findings]
        yield Cycle(
            cluster, COMPONENT, now, result.snapshot, result.measures, findings, result.unknown
        )
        probe = await self._probe(watch, nodes)
        if probe is None:
            return
        watch.probes[probe.source] = probe
        yield Cycle(
            cluster,
            COMPONENT,
            probe.at,
            {**result.snapshot, "probes": probes_list(watch.members, watch.probes)},
            probe_measures(probe),
            probe_findings(probe, self.settings.watch_probe_timeout),
            judged=[probe_key(probe.source)],
        )

    async def forget(self, cluster: str) -> None:
        watch = self._watches.pop(cluster, None)
        if watch is not None:
            await close_access(watch.access, self.settings.watch_timeout)

    async def close(self) -> None:
        if self._stray:
            await asyncio.wait(set(self._stray), timeout=self.settings.watch_timeout)
        for name in list(self._watches):
            await self.forget(name)

    async def _watch(self, name: str) -> _ClusterWatch | None:
        members = await replicated_members(self.manager, name)
        watch = self._watches.get(name)
        if watch is not None and watch.members == members:
            return watch
        await self.forget(name)
        if not members:
            return None
        access = await open_access(
            self.manager, name, list(members), settings=check_settings(self.settings)
        )
        watch = _ClusterWatch(members, access, Divergence(self.settings.watch_divergence_after))
        self._watches[name] = watch
        return watch

    async def _compare(self, watch: _ClusterWatch, nodes: Sequence[NodeCheck]) -> None:
        """Compare the data when due and replication is at rest; keep the verdict otherwise."""
        due = watch.compared == 0 or watch.cycles - watch.compared >= self.compare_every
        if self.compare is None or self.compare_every <= 0 or not due:
            return
        if not datacheck.at_rest(nodes):
            return
        try:
            found = await self.compare(watch.access, list(watch.members))
        except ClustermgrError as exc:
            watch.compared = watch.cycles
            log.warning("data comparison failed: %s", exc.message)
            return
        if not datacheck.still_at_rest(nodes, await self._check_nodes(watch)):
            return  # written to meanwhile: no verdict, compared again at the next cycle
        watch.compared = watch.cycles
        if found is not None:
            watch.compare_findings = list(found)

    async def _check_nodes(self, watch: _ClusterWatch) -> list[NodeCheck]:
        s = self.settings
        return list(
            await asyncio.gather(
                *(
                    check_node(
                        watch.access,
                        host,
                        timeout=s.watch_timeout,
                        agreement_timeout=s.watch_agreement_timeout,
                    )
                    for host in watch.members
                )
            )
        )

    async def _probe(self, watch: _ClusterWatch, nodes: Sequence[NodeCheck]) -> Probe | None:
        """The next node in turn (of those whose slapd answers) writes a probe."""
        up = [n.host for n in nodes if n.state is NodeState.OK]
        if len(up) < 2:
            return None
        hosts = list(watch.members)
        order = hosts[watch.turn % len(hosts) :] + hosts[: watch.turn % len(hosts)]
        source = next(h for h in order if h in up)
        watch.turn = hosts.index(source) + 1
        targets = [h for h in up if h != source]
        at = utcnow()
        s = self.settings
        task = asyncio.create_task(
            ldap.probe(
                watch.access,
                source,
                targets,
                timeout=s.watch_probe_timeout,
                command_timeout=s.watch_timeout,
            )
        )
        done, _ = await asyncio.wait({task}, timeout=s.watch_probe_timeout + 2)
        if not done:
            # The source stopped answering mid-probe (a partition): the check goes
            # on; the task ends on its own timeouts, an entry it leaves behind is
            # removed by a later probe write.
            task.cancel()
            self._stray.add(task)
            task.add_done_callback(_forget_task(self._stray))
            return Probe(source, at, dict.fromkeys(targets), error="no answer in time")
        try:
            return Probe(source, at, task.result())
        except ClustermgrError as exc:
            return Probe.failed(source, at, targets, exc)


def _forget_task(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a stray probe's failure is no news

    return done
