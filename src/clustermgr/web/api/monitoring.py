"""/api/v1/clusters/{name}/ldap, .../ldap/history, .../alerts: what the watcher recorded.

Shaped for a page that draws the topology coloured by health (``nodes[].health``,
``agreements``), the lag per pair, the latest probe latencies and a latency chart
(``history`` returns one series per metric and node pair).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from clustermgr.errors import InvalidInput
from clustermgr.monitor import read
from clustermgr.monitor.ldapfindings import LAG_METRIC, PROBE_METRIC
from clustermgr.monitor.views import AlertView, SampleView
from clustermgr.web.api.jobs import MAX_ID
from clustermgr.web.api.models import MAX_PAGE, Timestamp, next_before
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import WebDep

router = APIRouter(prefix="/clusters", tags=["monitoring"])

ClusterName = Annotated[str, Path(max_length=64)]


class AlertPublic(BaseModel):
    """One episode of one problem: open while ``resolved_at`` is null."""

    id: int
    cluster: str
    component: str
    key: str = Field(description="Stable identity, e.g. `node-down:idp2.example.org`.")
    severity: str = Field(json_schema_extra={"enum": ["critical", "warning"]})
    message: str
    opened_at: Timestamp
    last_seen_at: Timestamp
    resolved_at: Timestamp | None

    @classmethod
    def of(cls, view: AlertView) -> AlertPublic:
        return cls(**{k: getattr(view, k) for k in cls.model_fields})


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_before_id: int | None


class LdapNodePublic(BaseModel):
    host: str
    server_id: int | None
    state: str = Field(description="ok, slapd-down, unreachable (no SSH) or error.")
    health: str = Field(description="ok, warning or critical: the worst open finding.")
    reason: str
    check_seconds: float
    context_csn: dict[str, str] = Field(description="Server id (hex) -> contextCSN.")


class LdapAgreementPublic(BaseModel):
    consumer: str
    provider: str
    rid: str
    state: str = Field(description="ok, unreachable, tls, credentials or error.")
    reason: str


class LdapPairPublic(BaseModel):
    host: str
    peer: str
    peer_server_id: int
    caught_up: bool
    lag_seconds: float | None


class LdapProbePublic(BaseModel):
    source: str
    at: Timestamp
    seconds: dict[str, float | None] = Field(
        description="Per other node: seconds until it had the probe entry (null: not in time)."
    )
    error: str | None


class LdapHealthPublic(BaseModel):
    cluster: str
    checked_at: Timestamp | None = Field(
        description="The latest watcher cycle; null when no watcher has checked the cluster."
    )
    nodes: list[LdapNodePublic]
    agreements: list[LdapAgreementPublic]
    pairs: list[LdapPairPublic]
    probes: list[LdapProbePublic] = Field(description="The latest probe from each node.")
    open_alerts: list[AlertPublic]


class Metric(StrEnum):
    PROBE = PROBE_METRIC
    LAG = LAG_METRIC


class SeriesPublic(BaseModel):
    """One metric between two nodes over time (probe: host wrote, peer saw it; lag: host
    behind peer)."""

    metric: Metric
    host: str
    peer: str | None
    at: list[Timestamp]
    values: list[float]


class LdapHistoryPublic(BaseModel):
    cluster: str
    since: Timestamp
    series: list[SeriesPublic]


def series(samples: list[SampleView]) -> list[SeriesPublic]:
    grouped: dict[tuple[str, str, str | None], SeriesPublic] = {}
    for s in samples:
        key = (s.metric, s.host, s.peer)
        if key not in grouped:
            grouped[key] = SeriesPublic(
                metric=Metric(s.metric), host=s.host, peer=s.peer, at=[], values=[]
            )
        grouped[key].at.append(s.at)
        grouped[key].values.append(s.value)
    return [grouped[k] for k in sorted(grouped, key=lambda k: (k[0], k[1], k[2] or ""))]


@router.get("/{name}/ldap", responses=errors(404, 422))
async def ldap_health(name: ClusterName, web: WebDep) -> LdapHealthPublic:
    """The latest replication check (nodes, agreements, lag per pair, probes) and open alerts."""
    health = await read.ldap_health(web.manager, name)
    data: dict[str, Any] = health.snapshot.data if health.snapshot else {}
    return LdapHealthPublic(
        cluster=name,
        checked_at=health.snapshot.at if health.snapshot else None,
        nodes=data.get("nodes", []),
        agreements=data.get("agreements", []),
        pairs=data.get("pairs", []),
        probes=data.get("probes", []),
        open_alerts=[AlertPublic.of(a) for a in health.open_alerts],
    )


@router.get("/{name}/ldap/history", responses=errors(400, 404, 422))
async def ldap_history(
    name: ClusterName,
    web: WebDep,
    since: Annotated[
        datetime | None, Query(description="Start of the window (default: an hour ago).")
    ] = None,
    metric: Metric | None = None,
) -> LdapHistoryPublic:
    """Samples since ``since``, one series per metric and node pair, oldest first."""
    start = _utc(since) if since is not None else datetime.now(UTC) - timedelta(hours=1)
    samples = await read.ldap_history(
        web.manager, name, since=start, metric=metric.value if metric else None
    )
    return LdapHistoryPublic(cluster=name, since=start, series=series(samples))


class AlertState(StrEnum):
    OPEN = "open"
    ALL = "all"


@router.get("/{name}/alerts", responses=errors(404, 422))
async def cluster_alerts(
    name: ClusterName,
    web: WebDep,
    state: AlertState = AlertState.OPEN,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> AlertPage:
    """The cluster's alerts, newest first: the open ones, or every episode (``state=all``)."""
    views = await read.cluster_alerts(
        web.manager,
        name,
        open_only=state is AlertState.OPEN,
        limit=limit,
        before_id=before_id,
    )
    return AlertPage(
        items=[AlertPublic.of(v) for v in views],
        next_before_id=next_before([v.id for v in views], limit),
    )


def _utc(moment: datetime) -> datetime:
    """A naive time is UTC; an aware one is converted (400 when it leaves the calendar)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"since {moment.isoformat()} is out of range") from None
