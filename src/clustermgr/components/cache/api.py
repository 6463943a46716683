"""/api/v1/clusters/{name}/cache: the watcher's latest check of the cache chain.

Plan, apply and status run as jobs (``POST /api/v1/jobs`` with kind
``cache-plan``, ``cache-apply`` or ``cache-status``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clustermgr.components.cache.findings import COMPONENT
from clustermgr.monitor import read
from clustermgr.web.api.models import ClusterName, Timestamp
from clustermgr.web.api.monitoring import AlertPublic
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import WebDep

router = APIRouter(prefix="/clusters", tags=["monitoring"])


class CacheHealthPublic(BaseModel):
    cluster: str
    checked_at: Timestamp | None = Field(
        description="The latest watcher cycle; null when no watcher has checked the cache."
    )
    nodes: list[dict[str, Any]] = Field(
        description="Per identity node: its hops in request order (up or down), Redis figures."
    )
    proxy_hops: list[dict[str, Any]]
    pool: dict[str, Any] | None = Field(description="twemproxy's view of each server.")
    path: dict[str, Any] | None = Field(description="The latest end-to-end path check.")
    repairs: list[dict[str, Any]] = Field(description="What the latest cycle restarted.")
    open_alerts: list[AlertPublic]


@router.get("/{name}/cache", responses=errors(404, 422))
async def cache_health(name: ClusterName, web: WebDep) -> CacheHealthPublic:
    """The latest check of the cache chain and its open alerts."""
    health = await read.health(web.manager, name, COMPONENT)
    data: dict[str, Any] = health.snapshot.data if health.snapshot else {}
    return CacheHealthPublic(
        cluster=name,
        checked_at=health.snapshot.at if health.snapshot else None,
        nodes=data.get("nodes", []),
        proxy_hops=data.get("proxy_hops", []),
        pool=data.get("pool"),
        path=data.get("path"),
        repairs=data.get("repairs", []),
        open_alerts=[AlertPublic.of(a) for a in health.open_alerts],
    )
