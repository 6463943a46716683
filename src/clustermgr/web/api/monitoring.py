"""/api/v1/clusters/{name}/alerts: every component's alerts, as the watcher recorded them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from clustermgr.monitor import read
from clustermgr.monitor.views import AlertView
from clustermgr.web.api.models import MAX_ID, MAX_PAGE, ClusterName, Timestamp, next_before
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import WebDep

router = APIRouter(prefix="/clusters", tags=["monitoring"])


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
