"""The REST API under /api/v1: bearer-token auth on every route, one error shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request

from clustermgr.components.contract import Component
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.web.api import audit, clusters, jobs, me, monitoring, nodes, notify, servers
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import api_user


def api_router(components: Sequence[Component], kinds: KindCatalog) -> APIRouter:
    """The generic routes and every component's own; the job routes document ``kinds``."""
    router = APIRouter(
        prefix="/api/v1", dependencies=[Depends(api_user)], responses=errors(401, 403, 503)
    )
    for module in (servers, clusters, nodes):
        router.include_router(module.router)
    for component in components:
        if component.api is not None:
            router.include_router(component.api())
    router.include_router(monitoring.router(components))
    router.include_router(jobs.job_router(kinds))
    for module in (notify, audit, me):
        router.include_router(module.router)
    router.add_api_route("/openapi.json", _openapi, methods=["GET"], include_in_schema=False)
    return router


async def _openapi(request: Request) -> dict[str, Any]:
    """The OpenAPI document of this API (token required, like every API route)."""
    spec: dict[str, Any] = request.app.openapi()
    return spec
