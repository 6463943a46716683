"""/api/v1/clusters/{name}/alerts and .../{component}/history: what the watcher recorded.

Alerts of every component; the history of any watched component (its samples
averaged per step, one series per metric, host and peer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from clustermgr.components.contract import Component
from clustermgr.core.access import get_cluster
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.monitor import read
from clustermgr.monitor.alerts import Severity
from clustermgr.monitor.store import MAX_BUCKETS
from clustermgr.monitor.views import AlertView, HistoryView, SeriesView
from clustermgr.web.api.models import MAX_ID, MAX_PAGE, ClusterName, Timestamp, next_before
from clustermgr.web.api.responses import errors
from clustermgr.web.context import WebContext
from clustermgr.web.deps import WebDep

#: The window when the request names no ``since``.
DEFAULT_WINDOW = timedelta(hours=1)
#: Buckets in the window when the request names no ``step``.
DEFAULT_BUCKETS = 720
#: The longest step a request may ask for: a day.
MAX_STEP = 86_400


class AlertPublic(BaseModel):
    """One episode of one problem: open while ``resolved_at`` is null."""

    id: int
    cluster: str
    component: str
    key: str = Field(description="Stable identity, e.g. `node-down:idp2.example.org`.")
    severity: str = Field(json_schema_extra={"enum": [s.value for s in Severity]})
    message: str = Field(description="What is wrong and where, in words.")
    details: str = Field(
        default="", description="The technical record behind it: a command, its stderr."
    )
    opened_at: Timestamp
    last_seen_at: Timestamp
    resolved_at: Timestamp | None

    @classmethod
    def of(cls, view: AlertView) -> AlertPublic:
        return cls(**{k: getattr(view, k) for k in cls.model_fields})


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_before_id: int | None


class AlertState(StrEnum):
    OPEN = "open"
    ALL = "all"


class SeriesPublic(BaseModel):
    """One metric of one host over time, a bucket per entry of the lists (oldest first).

    ``values`` are the buckets' averages; ``min``, ``max`` and ``count`` describe the
    samples each one averages.
    """

    metric: str
    host: str
    peer: str | None
    at: list[Timestamp] = Field(description="The start of each bucket.")
    values: list[float]
    min: list[float]
    max: list[float]
    count: list[int]

    @classmethod
    def of(cls, view: SeriesView) -> SeriesPublic:
        b = view.buckets
        return cls(
            metric=view.metric,
            host=view.host,
            peer=view.peer,
            at=[x.at for x in b],
            values=[x.avg for x in b],
            min=[x.min for x in b],
            max=[x.max for x in b],
            count=[x.count for x in b],
        )


class HistoryPublic(BaseModel):
    cluster: str
    component: str
    since: Timestamp
    until: Timestamp
    step: int = Field(description="Seconds per bucket (wider than asked when needed).")
    series: list[SeriesPublic]

    @classmethod
    def of(cls, cluster: str, component: str, view: HistoryView) -> HistoryPublic:
        return cls(
            cluster=cluster,
            component=component,
            since=view.since,
            until=view.until,
            step=view.step,
            series=[SeriesPublic.of(s) for s in view.series],
        )


Since = Annotated[
    datetime | None, Query(description="Start of the window (default: an hour before until).")
]
Until = Annotated[datetime | None, Query(description="End of the window (default: now).")]
Step = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_STEP,
        description=f"Seconds per bucket (default: the window in {DEFAULT_BUCKETS}); "
        f"widened so that the window holds at most {MAX_BUCKETS}.",
    ),
]
ComponentName = Annotated[str, Path(max_length=16, description="A watched component.")]
FilterValue = Annotated[str | None, Query(max_length=253)]
MetricName = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9_]+$")]


async def component_history(
    web: WebContext,
    cluster: str,
    component: str,
    *,
    metric: str | None,
    since: datetime | None,
    until: datetime | None,
    step: int | None,
) -> HistoryPublic:
    """The history of ``component`` (not checked: the caller knows it is watched)."""
    end = utc(until, "until") if until is not None else datetime.now(UTC)
    try:
        start = utc(since, "since") if since is not None else end - DEFAULT_WINDOW
    except OverflowError:
        raise InvalidInput(f"until {end.isoformat()} leaves no hour before it") from None
    if step is None:
        span = max((end - start).total_seconds(), 1.0)
        step = max(1, math.ceil(span / DEFAULT_BUCKETS))
    view = await read.history(
        web.manager, cluster, component, since=start, until=end, step=step, metric=metric
    )
    return HistoryPublic.of(cluster, component, view)


def utc(moment: datetime, name: str) -> datetime:
    """A naive time is UTC; an aware one is converted (400 when it leaves the calendar)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{name} {moment.isoformat()} is out of range") from None


def has_history(component: Component) -> bool:
    """Whether the watcher records samples of ``component``: it has a part in the
    watcher, or a page, which shows the watcher's checks and charts."""
    return component.watch is not None or component.has_page


def router(components: Sequence[Component]) -> APIRouter:
    """The routes; history for each of ``components`` the watcher checks."""
    watched = sorted(c.name for c in components if has_history(c))
    routes = APIRouter(prefix="/clusters", tags=["monitoring"])

    @routes.get("/{name}/alerts", responses=errors(400, 404, 422))
    async def cluster_alerts(
        name: ClusterName,
        web: WebDep,
        state: AlertState = AlertState.OPEN,
        component: FilterValue = None,
        host: FilterValue = None,
        severity: Annotated[Severity | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> AlertPage:
        """The cluster's alerts, newest first: the open ones, or every episode
        (``state=all``); of one watched ``component``, about one ``host`` of the
        cluster, of one ``severity``."""
        cluster = await get_cluster(web.manager, name)
        where = read.alert_filter(
            cluster,
            watched,
            component=component,
            host=host,
            severity=severity.value if severity else None,
        )
        views = await read.cluster_alerts(
            web.manager,
            name,
            open_only=state is AlertState.OPEN,
            limit=limit,
            before_id=before_id,
            where=where,
        )
        return AlertPage(
            items=[AlertPublic.of(v) for v in views],
            next_before_id=next_before([v.id for v in views], limit),
        )

    @routes.get("/{name}/{component}/history", responses=errors(400, 404, 422))
    async def history(
        name: ClusterName,
        component: ComponentName,
        web: WebDep,
        metric: MetricName = None,
        since: Since = None,
        until: Until = None,
        step: Step = None,
    ) -> HistoryPublic:
        """The component's samples from ``since`` to ``until``, averaged per ``step``:
        one series per metric, host and peer, oldest bucket first."""
        if component not in watched:
            raise NotFound(f"no watched component {component!r} (one of: {', '.join(watched)})")
        return await component_history(
            web, name, component, metric=metric, since=since, until=until, step=step
        )

    return routes
