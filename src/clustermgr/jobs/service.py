"""Jobs as use cases: start, look up, list, cancel, follow.

Starting and cancelling a job each write one audit entry (``job.start`` under
the user who asked, ``job.cancel`` under the actor given), refused or failed
attempts too.  ``as_role`` is the role of whoever asks (the web and the API pass
the user's; the CLI acts as admin): starting a kind needs the kind's ``role``,
cancelling needs operator.

Active (queued or running) jobs are bounded per user (``jobs_per_user``) and in
all (``jobs_active``): a start beyond either is refused with
:class:`~clustermgr.errors.LimitReached`, never queued.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.manager import Manager
from clustermgr.db.engine import Database
from clustermgr.errors import LimitReached
from clustermgr.jobs import store
from clustermgr.jobs.kinds import JobKind, split_origin
from clustermgr.jobs.runner import Runner
from clustermgr.jobs.views import EventView, JobView
from clustermgr.words import count

FOLLOW_POLL = 0.3

# One lock per database: counting the active jobs and recording a new one happen
# together, so concurrent starts in this process cannot pass a limit side by side.
_starting: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


async def _check_limits(manager: Manager, user: str) -> None:
    settings = manager.settings
    mine = await store.active_count(manager, user=user)
    if mine >= settings.jobs_per_user:
        raise LimitReached(
            f"{user} already has {count(mine, 'job')} queued or running "
            f"(at most {settings.jobs_per_user})",
            hint="wait for one to finish, or cancel one, then start again",
        )
    everyone = await store.active_count(manager)
    if everyone >= settings.jobs_active:
        raise LimitReached(
            f"the manager already has {count(everyone, 'job')} queued or running (at most "
            f"{settings.jobs_active})",
            hint="wait for some to finish, then start again",
        )


async def submit(
    manager: Manager,
    runner: Runner,
    *,
    kind_name: str,
    cluster: str,
    user: str,
    params: dict[str, Any] | None = None,
    as_role: UserRole = UserRole.ADMIN,
) -> JobView:
    """Record a job and hand it to the runner, audited as ``user``. A conflicting mutating
    job is refused, and so is a kind ``as_role`` (the user's role) may not start.

    An unknown kind or params its model refuses are InvalidInput; no job is recorded.
    The job's origin (``plan_job``, ``rerun_of``) is kept with its params, unchecked
    by the kind.
    """
    detail = {"kind": kind_name}
    async with audit.audited(
        manager, actor=user, action="job.start", target=cluster, detail=detail
    ) as outcome:
        work = may_start(runner, kind_name, as_role)
        given, origin = split_origin(params or {})
        valid = {**work.parse(given).model_dump(mode="json", exclude_defaults=True), **origin}
        async with manager.store() as inventory:
            await inventory.cluster(cluster)  # NotFound for an unknown cluster
        async with _starting.setdefault(manager.db, asyncio.Lock()):
            await _check_limits(manager, user)
            job = await store.create(
                manager,
                kind=work.name,
                cluster=cluster,
                mutating=work.mutating,
                user=user,
                params=valid,
                runner=runner.name,
            )
        outcome.detail["job"] = job.id
        await runner.submit(job.id)
    return job


def may_start(runner: Runner, kind_name: str, as_role: UserRole) -> JobKind[Any]:
    """The kind, when ``as_role`` may start it; Forbidden otherwise (InvalidInput for an
    unknown kind).  Front ends that check a request before submitting it ask this first."""
    work = runner.kinds.get(kind_name)
    require(as_role, work.role, f"starting a {work.name} job")
    return work


async def request_cancel(
    manager: Manager, job_id: int, *, actor: str = "system", as_role: UserRole = UserRole.ADMIN
) -> JobView:
    """Ask a job to stop between steps (a queued job is cancelled at once); audited as
    ``actor``. A finished job is answered as it is. Operators and admins may."""
    async with audit.audited(
        manager, actor=actor, action="job.cancel", target=f"job #{job_id}"
    ) as outcome:
        require(as_role, UserRole.OPERATOR, "cancelling a job")
        job = await store.request_cancel(manager, job_id)
        outcome.detail.update(
            {"job": job.id, "kind": job.kind, "cluster": job.cluster, "state": job.state.value}
        )
    return job


async def follow(
    manager: Manager, job_id: int, *, after: int = 0, poll: float = FOLLOW_POLL
) -> AsyncIterator[EventView | JobView]:
    """Every event after ``after`` as it is written, then the finished job."""
    seq = after
    while True:
        job = await store.get(manager, job_id)
        events = await store.events_after(manager, job_id, seq)
        for event in events:
            seq = event.seq
            yield event
        if job.finished and not events:
            yield job
            return
        if not events:
            await asyncio.sleep(poll)


get = store.get
listing = store.listing
summaries = store.summaries
latest_finished = store.latest_finished
events_after = store.events_after
