"""When the identity servers switch caches: to Redis only over a whole, verified chain.

Going to REDIS, the chain is built first (every host reached, every step done),
then verified end to end as status reads it: Redis on every node, stunnel both
ways, twemproxy with every node in its pool, and a key written through the
first node's 127.0.0.1:7000 read back through every other node's.  Only then is
``oxCacheConfiguration`` changed.  Otherwise the cut-over step is reported as
not done, with why, and the identity servers keep what they had: a node lost
halfway through an apply leaves them on LDAP sessions, every node still serving.

Going back to LDAP (NATIVE_PERSISTENCE), the switch comes first, before anything
of the chain could be stopped or removed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from clustermgr.components.cache.model import CacheLayout
from clustermgr.components.cache.status import read_chain
from clustermgr.core.access import HostAccess
from clustermgr.plan.events import Emit, Event, EventKind
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult

#: How long a freshly built chain may take to verify (twemproxy's pool settles,
#: tunnels connect), and how often it is read meanwhile.
VERIFY_TIMEOUT = 20.0
VERIFY_INTERVAL = 1.0
#: Seconds each host's probe may take while verifying.
PROBE_TIMEOUT = 15.0


def incomplete(reports: Iterable[ApplyReport], unreachable: dict[str, str]) -> list[str]:
    """What keeps the chain from being whole: hosts not reached, steps failed or skipped."""
    problems = [f"{host}: not reached ({reason})" for host, reason in unreachable.items()]
    problems += [
        f"{r.host}: {r.title}: {r.outcome.value}"
        for report in reports
        for r in report.all()
        if r.outcome in (Outcome.FAILED, Outcome.SKIPPED)
    ]
    return problems


async def verify(access: HostAccess, cluster: str, layout: CacheLayout, emit: Emit) -> list[str]:
    """Read the chain until it verifies end to end from every node, or the time is up;
    the problems left (none: verified)."""
    emit(Event(EventKind.STEP_OUTPUT, "verifying the cache chain end to end on every node"))
    deadline = time.monotonic() + VERIFY_TIMEOUT
    while True:
        status = await read_chain(access, cluster, layout, every_node=True, timeout=PROBE_TIMEOUT)
        if status.ok or time.monotonic() >= deadline:
            return status.problems
        await asyncio.sleep(VERIFY_INTERVAL)


def held_back(plan: Plan, problems: list[str], outcome: Outcome, emit: Emit) -> ApplyReport:
    """The cut-over, not run: ``outcome`` (SKIPPED: the chain was not built; FAILED: built,
    but it does not verify) and why."""
    reason = "the identity servers keep their cache: the chain is not whole: " + "; ".join(problems)
    results: dict[str, list[StepResult]] = {}
    for step in plan.steps:
        emit(
            Event(
                EventKind.STEP_FINISHED,
                f"{step.title}: {outcome.value} ({reason})",
                host=step.host,
                step=step.id,
                outcome=outcome,
            )
        )
        result = StepResult(step.id, step.host, step.title, outcome, reason)
        results.setdefault(step.host, []).append(result)
    return ApplyReport(plan.title, False, results)
