"""/api/v1/clusters/{name}/ldap, .../ldap/history: what the watcher recorded; compare, reinit.

Shaped for a page that draws the topology coloured by health (``nodes[].health``,
``agreements``), the lag per pair, the latest probe latencies and a latency chart
(``history``, the generic component history for ``ldap``: one series per metric
and node pair).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap.findings import COMPONENT, LAG_METRIC, PROBE_METRIC
from clustermgr.components.ldap.jobs import ReinitParams
from clustermgr.jobs import service as jobs
from clustermgr.monitor import read
from clustermgr.web.api.jobs import start_job
from clustermgr.web.api.models import ClusterName, JobPublic, Timestamp
from clustermgr.web.api.monitoring import (
    AlertPublic,
    HistoryPublic,
    Since,
    Step,
    Until,
    component_history,
)
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["ldap"])


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


@router.get("/{name}/ldap", responses=errors(404, 422))
async def ldap_health(name: ClusterName, web: WebDep) -> LdapHealthPublic:
    """The latest replication check (nodes, agreements, lag per pair, probes) and open alerts."""
    health = await read.health(web.manager, name, COMPONENT)
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
    since: Since = None,
    until: Until = None,
    step: Step = None,
    metric: Metric | None = None,
) -> HistoryPublic:
    """The replication samples (probe: host wrote, peer saw it; lag: host behind peer),
    one series per metric and node pair: ``.../{component}/history`` for ``ldap``."""
    return await component_history(
        web,
        name,
        COMPONENT,
        metric=metric.value if metric else None,
        since=since,
        until=until,
        step=step,
    )


@router.post("/{name}/ldap/compare", status_code=202, responses=errors(404, 409, 422))
async def ldap_compare(
    name: ClusterName, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start an `ldap-compare` job: are the identity nodes' directories identical? Read only."""
    return await start_job(web, user, response, kind="ldap-compare", cluster=name, params={})


@router.post("/{name}/ldap/reinit", status_code=202, responses=errors(400, 404, 409, 422))
async def ldap_reinit(
    name: ClusterName, body: ReinitParams, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start an `ldap-reinit` job: replace `node`'s directory with a copy of `source`'s.

    Every change on `node` that has not reached `source` is lost, so `confirm`
    must be true; the job's first event says how far `node` was ahead.
    """
    jobs.may_start(web.runner, "ldap-reinit", user.role)
    await ldap_repair.check_request(web.manager, name, body.node, body.source, body.confirm)
    params = body.model_copy(update={"confirm": True}).model_dump()
    return await start_job(web, user, response, kind="ldap-reinit", cluster=name, params=params)
