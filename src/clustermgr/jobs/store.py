"""Job rows and their events in the database. The only code that writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import JobConflict, NotFound
from clustermgr.jobs.models import ACTIVE_STATES, Job, JobEvent, JobState
from clustermgr.jobs.views import EventView, JobSummary, JobView, step_counts, verdict
from clustermgr.plan.events import Event

#: Seconds between two heartbeats of a running job.
HEARTBEAT_EVERY = 5.0
#: A running job whose last heartbeat is older than this is taken for dead (its process
#: stopped without recording the end): it no longer counts as changing its cluster.
STALE_AFTER = 60.0


async def create(
    manager: Manager,
    *,
    kind: str,
    cluster: str,
    mutating: bool,
    user: str,
    params: dict[str, Any],
    runner: str,
) -> JobView:
    """Insert a queued job; refuse a second active mutating job on the same cluster."""
    try:
        async with manager.db.session() as session:
            job = Job(
                kind=kind,
                cluster=cluster,
                mutating=mutating,
                requested_by=user,
                params=params,
                runner=runner,
                state=JobState.QUEUED.value,
            )
            session.add(job)
            await session.flush()
            return JobView.of(job)
    except IntegrityError:
        active = await active_mutating(manager, cluster)
        which = f"job #{active.id} ({active.kind}, {active.state.value})" if active else "a job"
        raise JobConflict(
            f"{which} is already changing cluster {cluster!r}",
            hint="wait for it to finish, or cancel it, then start again",
        ) from None


async def active_mutating(manager: Manager, cluster: str) -> JobView | None:
    async with manager.db.session() as session:
        job = (
            await session.scalars(
                select(Job).where(
                    Job.cluster == cluster, Job.mutating.is_(True), Job.state.in_(ACTIVE_STATES)
                )
            )
        ).first()
        return JobView.of(job) if job else None


async def active_count(manager: Manager, *, user: str | None = None) -> int:
    """Jobs queued or running: every user's, or only those ``user`` asked for."""
    query = select(func.count()).select_from(Job).where(Job.state.in_(ACTIVE_STATES))
    if user is not None:
        query = query.where(Job.requested_by == user)
    async with manager.db.session() as session:
        return int(await session.scalar(query) or 0)


async def get(manager: Manager, job_id: int) -> JobView:
    async with manager.db.session() as session:
        job = await session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job #{job_id}")
        return JobView.of(job)


async def listing(
    manager: Manager, *, cluster: str | None = None, limit: int = 50, before_id: int | None = None
) -> list[JobView]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if cluster:
        query = query.where(Job.cluster == cluster)
    if before_id:
        query = query.where(Job.id < before_id)
    async with manager.db.session() as session:
        return [JobView.of(j) for j in await session.scalars(query)]


async def latest_per_kind(
    manager: Manager, cluster: str, kinds: Sequence[str], per_kind: int
) -> list[JobView]:
    """The newest ``per_kind`` finished jobs of each of ``kinds`` on ``cluster``, newest
    first: one query, however long the history."""
    newest = func.row_number().over(partition_by=Job.kind, order_by=Job.id.desc()).label("newest")
    ranked = (
        select(Job.id, newest)
        .where(Job.cluster == cluster, Job.kind.in_(kinds), Job.state.not_in(ACTIVE_STATES))
        .subquery()
    )
    query = (
        select(Job)
        .join(ranked, ranked.c.id == Job.id)
        .where(ranked.c.newest <= per_kind)
        .order_by(Job.id.desc())
    )
    async with manager.db.session() as session:
        return [JobView.of(j) for j in await session.scalars(query)]


async def summaries(
    manager: Manager,
    *,
    cluster: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[JobSummary]:
    """The newest jobs (of ``cluster``, older than ``before_id``) without their params and
    results: one query that reads only the reports' ``ok`` and ``counts``."""
    query = (
        select(
            Job.id,
            Job.kind,
            Job.cluster,
            Job.state,
            Job.mutating,
            Job.requested_by,
            Job.created_at,
            Job.started_at,
            Job.finished_at,
            Job.runner,
            Job.cancel_requested,
            Job.result["ok"],
            Job.result["counts"],
            Job.error,
        )
        .order_by(Job.id.desc())
        .limit(limit)
    )
    if cluster:
        query = query.where(Job.cluster == cluster)
    if before_id:
        query = query.where(Job.id < before_id)
    async with manager.db.session() as session:
        rows = (await session.execute(query)).all()
    return [
        JobSummary(
            job,
            kind,
            name,
            JobState(state),
            mutating,
            by,
            created,
            started,
            finished,
            runner=runner,
            cancel_requested=cancel,
            ok=verdict(ok),
            counts=step_counts(counts),
            error=error,
        )
        for (
            job,
            kind,
            name,
            state,
            mutating,
            by,
            created,
            started,
            finished,
            runner,
            cancel,
            ok,
            counts,
            error,
        ) in rows
    ]


async def latest_finished(
    manager: Manager, kind: str, clusters: Sequence[str]
) -> dict[str, JobView]:
    """Each of ``clusters``' newest finished job of ``kind`` that has a result (a job
    that failed before its report has none): one query, however many clusters and
    jobs; a cluster without such a job is left out."""
    if not clusters:
        return {}
    # The clusters that have jobs at all; for each, its newest matching job, read newest
    # first by the index on the cluster until one matches.
    wanted = (
        select(Job.cluster.label("name"))
        .where(Job.cluster.in_(clusters))
        .group_by(Job.cluster)
        .subquery("wanted")
    )
    newest = (
        select(Job.id)
        .where(
            Job.cluster == wanted.c.name,
            Job.kind == kind,
            Job.state.not_in(ACTIVE_STATES),
            Job.result.is_not(None),
            # ``None`` written into the JSON column is stored as JSON ``null``.
            cast(Job.result, Text).not_in(("null", "{}")),
        )
        .order_by(Job.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(Job).where(Job.id.in_(select(newest).select_from(wanted)))
    async with manager.db.session() as session:
        return {j.cluster: JobView.of(j) for j in await session.scalars(query)}


async def claim(manager: Manager, job_id: int) -> bool:
    """Queued -> running, once: a queue may deliver a job twice, only one run claims it."""
    async with manager.db.session() as session:
        claimed = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
            .values(state=JobState.RUNNING.value, started_at=utcnow(), heartbeat_at=utcnow())
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def beat(manager: Manager, job_id: int) -> None:
    """The running job ``job_id`` is alive (see :data:`STALE_AFTER`)."""
    async with manager.db.session() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value)
            .values(heartbeat_at=utcnow())
        )


async def changing(manager: Manager, cluster: str, *, since: datetime) -> list[JobView]:
    """The mutating jobs of ``cluster`` running now (heartbeat fresh) or that ended at
    ``since`` or later, oldest first: the jobs that may have changed it since then."""
    fresh = utcnow() - timedelta(seconds=STALE_AFTER)
    running = (Job.state == JobState.RUNNING.value) & (
        func.coalesce(Job.heartbeat_at, Job.started_at) >= fresh
    )
    query = (
        select(Job)
        .where(Job.cluster == cluster, Job.mutating.is_(True), running | (Job.finished_at >= since))
        .order_by(Job.id)
    )
    async with manager.db.session() as session:
        return [JobView.of(j) for j in await session.scalars(query)]


async def finish(
    manager: Manager,
    job_id: int,
    state: JobState,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    async with manager.db.session() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state=state.value, finished_at=utcnow(), result=result, error=error)
        )


async def request_cancel(manager: Manager, job_id: int) -> JobView:
    async with manager.db.session() as session:
        job = await session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job #{job_id}")
        if JobState(job.state).active:
            job.cancel_requested = True
            if job.state == JobState.QUEUED.value:
                job.state = JobState.CANCELLED.value
                job.finished_at = utcnow()
        await session.flush()
        return JobView.of(job)


async def cancel_requested(manager: Manager, job_id: int) -> bool:
    async with manager.db.session() as session:
        return bool(await session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


async def interrupt_active(manager: Manager, runner: str, reason: str) -> list[int]:
    """Mark every active job of ``runner`` interrupted (after a stop or a crash)."""
    async with manager.db.session() as session:
        jobs = list(
            await session.scalars(
                select(Job).where(Job.runner == runner, Job.state.in_(ACTIVE_STATES))
            )
        )
        for job in jobs:
            job.state = JobState.INTERRUPTED.value
            job.finished_at = utcnow()
            job.error = reason
            seq = await _next_seq(session, job.id)
            session.add(
                JobEvent(job_id=job.id, seq=seq, kind="interrupted", message=reason, at=utcnow())
            )
        return [job.id for job in jobs]


async def append_events(
    manager: Manager, job_id: int, first_seq: int, events: Sequence[Event]
) -> None:
    async with manager.db.session() as session:
        for offset, event in enumerate(events):
            session.add(
                JobEvent(
                    job_id=job_id,
                    seq=first_seq + offset,
                    kind=event.kind.value,
                    host=event.host,
                    step=event.step,
                    outcome=event.outcome.value if event.outcome else None,
                    message=event.message,
                    at=datetime.fromtimestamp(event.at, utcnow().tzinfo),
                    done=event.done,
                    planned=event.planned,
                )
            )


async def events_after(
    manager: Manager, job_id: int, seq: int = 0, limit: int = 1000
) -> list[EventView]:
    async with manager.db.session() as session:
        rows = await session.scalars(
            select(JobEvent)
            .where(JobEvent.job_id == job_id, JobEvent.seq > seq)
            .order_by(JobEvent.seq)
            .limit(limit)
        )
        return [EventView.of(e) for e in rows]


async def _next_seq(session: Any, job_id: int) -> int:
    last = await session.scalar(select(func.max(JobEvent.seq)).where(JobEvent.job_id == job_id))
    return int(last or 0) + 1
