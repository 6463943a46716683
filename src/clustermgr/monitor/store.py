"""The monitor's rows in the database: the only code that writes them, and the read API.

Writes: :func:`record_cycle` (samples, the latest snapshot and alert transitions of
one check cycle, with their notifications' outbox rows, in one transaction),
:func:`prune`, the watcher's lease.
Reads, for the GUI, the API and the CLI: :func:`latest`, :func:`history` (samples
averaged per step in the database), :func:`samples` (the rows themselves),
:func:`alerts`, :func:`open_counts`, :func:`open_count`, :func:`checked_at`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.monitor.alerts import Finding, transition
from clustermgr.monitor.buckets import bucket_of
from clustermgr.monitor.models import Alert, Lease, Sample, Snapshot
from clustermgr.monitor.views import (
    AlertView,
    Bucket,
    HistoryView,
    SampleView,
    SeriesView,
    SnapshotView,
)
from clustermgr.notify import outbox

#: Most samples one :func:`samples` read returns (the newest are kept when cut).
MAX_SAMPLES = 20_000
#: Most buckets per series one :func:`history` read returns (its step widens to fit).
MAX_BUCKETS = 2_000


@dataclass(frozen=True)
class Measure:
    """A sample before it is stored (its time is the cycle's)."""

    metric: str
    host: str
    peer: str | None
    value: float


@dataclass(frozen=True)
class Cycle:
    """What one check cycle of one component of one cluster found."""

    cluster: str
    component: str
    at: datetime
    snapshot: dict[str, Any]
    measures: Sequence[Measure] = ()
    findings: Sequence[Finding] = ()
    #: Alert keys this cycle could not judge: their alerts stay as they are.
    unknown: Sequence[str] = ()
    #: When set, the only keys this (partial) cycle judged: no other alert resolves.
    judged: Sequence[str] | None = None


@dataclass(frozen=True)
class Recorded:
    opened: list[AlertView]
    resolved: list[AlertView]


async def record_cycle(manager: Manager, cycle: Cycle) -> Recorded:
    """Store samples, replace the snapshot, open/refresh/resolve alerts: one transaction."""
    async with manager.db.session() as session:
        if cycle.measures:
            await session.execute(
                insert(Sample),
                [
                    {
                        "at": cycle.at,
                        "cluster": cycle.cluster,
                        "component": cycle.component,
                        "metric": m.metric,
                        "host": m.host,
                        "peer": m.peer,
                        "value": m.value,
                    }
                    for m in cycle.measures
                ],
            )
        snapshot = await session.get(Snapshot, (cycle.cluster, cycle.component))
        if snapshot is None:
            session.add(
                Snapshot(
                    cluster=cycle.cluster,
                    component=cycle.component,
                    at=cycle.at,
                    data=cycle.snapshot,
                )
            )
        else:
            snapshot.at, snapshot.data = cycle.at, cycle.snapshot
        current = {
            a.key: a
            for a in await session.scalars(
                select(Alert).where(
                    Alert.cluster == cycle.cluster,
                    Alert.component == cycle.component,
                    Alert.resolved_at.is_(None),
                )
            )
        }
        change = transition(cycle.findings, current, cycle.unknown, judged=cycle.judged)
        opened = []
        for finding in change.open:
            alert = Alert(
                cluster=cycle.cluster,
                component=cycle.component,
                key=finding.key,
                severity=finding.severity.value,
                message=finding.message,
                details=finding.details,
                opened_at=cycle.at,
                last_seen_at=cycle.at,
            )
            session.add(alert)
            opened.append(alert)
        escalated = []
        for finding in change.refresh:
            alert = current[finding.key]
            if alert.severity != finding.severity.value:
                escalated.append(alert)
            alert.last_seen_at = cycle.at
            alert.severity, alert.message = finding.severity.value, finding.message
            alert.details = finding.details
        for key in change.resolve:
            current[key].resolved_at = cycle.at
        await session.flush()
        # The messages of these transitions are written with them: none lost, none twice.
        await outbox.enqueue(
            session, opened, [current[k] for k in change.resolve], changed=escalated
        )
        return Recorded(
            [AlertView.of(a) for a in opened],
            [AlertView.of(current[k]) for k in change.resolve],
        )


async def prune(manager: Manager, *, older_than: timedelta) -> int:
    """Delete samples older than ``older_than``; how many went."""
    async with manager.db.session() as session:
        done = await session.execute(delete(Sample).where(Sample.at < utcnow() - older_than))
        return int(done.rowcount)  # type: ignore[attr-defined]


async def mark_paused(manager: Manager, cluster: str, component: str, job: int) -> None:
    """The latest snapshot (if any) says job ``job`` paused the checks; the next cycle
    recorded replaces it.  Its time stays the last check's."""
    async with manager.db.session() as session:
        snapshot = await session.get(Snapshot, (cluster, component))
        if snapshot is not None:
            snapshot.data = {**snapshot.data, "paused_by": job}


# --- reads ------------------------------------------------------------------------


async def latest(manager: Manager, cluster: str, component: str) -> SnapshotView | None:
    """The last cycle's snapshot, or None when no watcher has checked the cluster yet."""
    async with manager.db.session() as session:
        row = await session.get(Snapshot, (cluster, component))
        return SnapshotView.of(row) if row else None


async def samples(
    manager: Manager,
    cluster: str,
    component: str,
    *,
    since: datetime,
    until: datetime | None = None,
    metric: str | None = None,
    limit: int = MAX_SAMPLES,
) -> list[SampleView]:
    """Samples from ``since`` (inclusive) to ``until`` (exclusive), oldest first."""
    # SQLite compares stored text: every bound time must be in UTC like the stored ones.
    query = select(Sample).where(
        Sample.cluster == cluster, Sample.component == component, Sample.at >= since.astimezone(UTC)
    )
    if until is not None:
        query = query.where(Sample.at < until.astimezone(UTC))
    if metric is not None:
        query = query.where(Sample.metric == metric)
    query = query.order_by(Sample.at.desc(), Sample.id.desc()).limit(limit)
    async with manager.db.session() as session:
        rows = list(await session.scalars(query))
    return [SampleView.of(r) for r in reversed(rows)]


def fit_step(since: datetime, until: datetime, step: int) -> int:
    """``step`` (seconds), widened so that the window holds at most :data:`MAX_BUCKETS`."""
    span = (until - since).total_seconds()
    if span <= 0:
        raise InvalidInput("the history window is empty: until must be after since")
    if step < 1:
        raise InvalidInput("the history step must be at least one second")
    return max(step, math.ceil(span / MAX_BUCKETS))


async def history(
    manager: Manager,
    cluster: str,
    component: str,
    *,
    since: datetime,
    until: datetime,
    step: int,
    metric: str | None = None,
) -> HistoryView:
    """Samples from ``since`` (inclusive) to ``until`` (exclusive), averaged per ``step``.

    The database groups them: one row per series (metric, host, peer) and bucket,
    with the average, least, greatest and count, so a long window costs no more
    rows than buckets.  ``step`` widens when the window would hold more than
    :data:`MAX_BUCKETS`; the answer says the step it used.
    """
    # SQLite compares stored text: every bound time must be in UTC like the stored ones.
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    step = fit_step(since, until, step)
    bucket = bucket_of(Sample.at, since, step).label("bucket")
    query = (
        select(
            Sample.metric,
            Sample.host,
            Sample.peer,
            bucket,
            func.avg(Sample.value),
            func.min(Sample.value),
            func.max(Sample.value),
            func.count(),
        )
        .where(
            Sample.cluster == cluster,
            Sample.component == component,
            Sample.at >= since,
            Sample.at < until,
        )
        # By the label: the bucket's expression binds ``since``, twice would not match.
        .group_by(Sample.metric, Sample.host, Sample.peer, literal_column("bucket"))
        .order_by(Sample.metric, Sample.host, Sample.peer, literal_column("bucket"))
    )
    if metric is not None:
        query = query.where(Sample.metric == metric)
    async with manager.db.session() as session:
        rows = (await session.execute(query)).all()
    grouped: dict[tuple[str, str, str | None], list[Bucket]] = {}
    for name, host, peer, index, avg, least, most, count in rows:
        at = since + timedelta(seconds=int(index) * step)
        grouped.setdefault((name, host, peer), []).append(
            Bucket(at, float(avg), float(least), float(most), int(count))
        )
    series = tuple(
        SeriesView(name, host, peer, tuple(buckets))
        for (name, host, peer), buckets in sorted(
            grouped.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
        )
    )
    return HistoryView(since, until, step, series)


def about_host(host: str) -> ColumnElement[bool]:
    """Alerts whose key names ``host`` (or its first label) as a subject or a peer.

    A key is ``KIND:SUBJECT`` (``node-down:idp1.example.org``, ``repair:stunnel4:idp1``)
    or ``KIND:SUBJECT<-PEER`` for a pair; a subject is a host name or its first label.
    """
    names = {host, host.split(".", 1)[0]}
    return or_(
        *(
            clause
            for name in sorted(names)
            for clause in (
                Alert.key.endswith(f":{name}", autoescape=True),
                Alert.key.endswith(f"<-{name}", autoescape=True),
                Alert.key.contains(f":{name}<-", autoescape=True),
            )
        )
    )


def hosts_of_key(key: str, hosts: Iterable[str]) -> list[str]:
    """Which of ``hosts`` an alert's key names, by the rule of :func:`about_host`."""
    return [
        host
        for host in hosts
        if any(
            key.endswith((f":{name}", f"<-{name}")) or f":{name}<-" in key
            for name in {host, host.split(".", 1)[0]}
        )
    ]


async def alerts(
    manager: Manager,
    cluster: str,
    *,
    open_only: bool,
    component: str | None = None,
    host: str | None = None,
    severity: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AlertView]:
    """Alerts newest first: only the open ones, or every episode (page on with ``before_id``),
    of one component, about one host (see :func:`about_host`), of one severity."""
    query = select(Alert).where(Alert.cluster == cluster)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    if component is not None:
        query = query.where(Alert.component == component)
    if host is not None:
        query = query.where(about_host(host))
    if severity is not None:
        query = query.where(Alert.severity == severity)
    if before_id is not None:
        query = query.where(Alert.id < before_id)
    query = query.order_by(Alert.id.desc()).limit(limit)
    async with manager.db.session() as session:
        return [AlertView.of(a) for a in await session.scalars(query)]


@dataclass(frozen=True)
class OpenCount:
    """How many alerts of one severity are open on one component of one cluster."""

    cluster: str
    component: str
    severity: str
    count: int


async def open_counts(manager: Manager) -> list[OpenCount]:
    """The open alerts counted per cluster, component and severity: one grouped query over
    the open rows (the partial index of open alerts holds them)."""
    query = (
        select(Alert.cluster, Alert.component, Alert.severity, func.count())
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.cluster, Alert.component, Alert.severity)
        .order_by(Alert.cluster, Alert.component, Alert.severity)
    )
    async with manager.db.session() as session:
        rows = (await session.execute(query)).all()
    return [OpenCount(c, comp, sev, int(n)) for c, comp, sev, n in rows]


async def open_count(manager: Manager, *, severity: str) -> int:
    """Open alerts of ``severity`` across every cluster (the page header's badge)."""
    query = (
        select(func.count())
        .select_from(Alert)
        .where(Alert.resolved_at.is_(None), Alert.severity == severity)
    )
    async with manager.db.session() as session:
        return int((await session.execute(query)).scalar_one())


async def checked_at(manager: Manager) -> dict[tuple[str, str], datetime]:
    """When each (cluster, component) was last checked: the snapshots' times, not their data."""
    query = select(Snapshot.cluster, Snapshot.component, Snapshot.at)
    async with manager.db.session() as session:
        rows = (await session.execute(query)).all()
    return {(c, comp): at for c, comp, at in rows}


# --- the watcher's lease ------------------------------------------------------------


async def take_lease(manager: Manager, name: str, holder: str, *, seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False when another holds it.

    One conditional UPDATE (ours already, or expired) decides; a first taker
    inserts the row, and of two first takers the primary key lets one win.
    """
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    async with manager.db.session() as session:
        taken = await session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
            .values(holder=holder, expires_at=until)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return True
        if await session.get(Lease, name) is not None:
            return False
    try:
        async with manager.db.session() as session:
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


async def release_lease(manager: Manager, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), so another watcher takes over next cycle."""
    async with manager.db.session() as session:
        await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


async def clusters_with(manager: Manager, component: str) -> list[str]:
    """Clusters that have a snapshot of ``component`` (it was set up or checked)."""
    async with manager.db.session() as session:
        names = await session.scalars(
            select(Snapshot.cluster)
            .where(Snapshot.component == component)
            .order_by(Snapshot.cluster)
        )
        return list(names)
