"""/api/v1/clusters/{name}/lb: the load balancer's latest check, and its settings.

Plan, apply, status, drain, undrain and the rolling restart are jobs
(``POST /api/v1/jobs`` with kind ``lb-plan``, ``lb-apply``, ``lb-status``,
``lb-drain``/``lb-undrain`` with params ``{"node": HOST}``, ``lb-rolling-restart``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.settings import (
    SCIM_CAVEAT,
    CertificateSource,
    LbSettingsUpdate,
    Upstream,
)
from clustermgr.monitor import read
from clustermgr.web.api.models import ClusterName, Timestamp
from clustermgr.web.api.monitoring import AlertPublic
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["load balancer"])


class LbBackendPublic(BaseModel):
    host: str
    address: str = Field(description="address:port NGINX sends requests to.")
    state: str = Field(description="up, down (failing its health check) or drained.")
    healthy: bool | None
    status: int | None = Field(description="HTTP status of the health check, if any.")
    seconds: float | None = Field(description="Response time of the health check.")
    error: str
    issuer: str | None = Field(
        default=None, description="The issuer the node's OpenID discovery names, if read."
    )
    checked_at: str


class LbHealthPublic(BaseModel):
    cluster: str
    checked_at: Timestamp | None = Field(description="Null until a watcher checked it.")
    proxy: str | None
    issuer: str | None = Field(
        default=None, description="What every node should name: the cluster's public hostname."
    )
    backends: list[LbBackendPublic]
    nginx: dict[str, Any] = Field(description="stub_status counters and the deployed upstreams.")
    open_alerts: list[AlertPublic]


class LbSettingsPublic(BaseModel):
    locations: dict[str, Upstream] = Field(description=SCIM_CAVEAT)
    certificate: CertificateSource
    cert_file: str | None
    key_file: str | None
    drained: list[str]


@router.get("/{name}/lb", responses=errors(404, 422))
async def lb_health(name: ClusterName, web: WebDep) -> LbHealthPublic:
    """The watcher's latest check of the load balancer and its open alerts."""
    health = await read.health(web.manager, name, COMPONENT)
    data: dict[str, Any] = health.snapshot.data if health.snapshot else {}
    return LbHealthPublic(
        cluster=name,
        checked_at=health.snapshot.at if health.snapshot else None,
        proxy=data.get("proxy"),
        issuer=data.get("issuer"),
        backends=[LbBackendPublic(**b) for b in data.get("backends", [])],
        nginx=data.get("nginx", {}),
        open_alerts=[AlertPublic.of(a) for a in health.open_alerts],
    )


@router.get("/{name}/lb/settings", responses=errors(404, 422))
async def get_settings(name: ClusterName, web: WebDep) -> LbSettingsPublic:
    settings = await lb_settings.lb_settings(web.manager, name)
    return LbSettingsPublic(**settings.model_dump())


@router.patch("/{name}/lb/settings", responses=errors(400, 404, 422))
async def update_settings(
    name: ClusterName, body: LbSettingsUpdate, web: WebDep, user: ApiUser
) -> LbSettingsPublic:
    """Change the locations' upstreams or the certificate source (at the next ``lb-apply``).

    Certificate paths are absolute paths of letters, digits and ``. _ / -`` (no ``..``).
    """
    merged = await lb_settings.change(
        web.manager, name, body, actor=user.username, as_role=user.role
    )
    return LbSettingsPublic(**merged.model_dump())
