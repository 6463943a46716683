"""The REST API under /api/v1: bearer-token auth on every route, one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from clustermgr.web.api import audit, clusters, jobs, loadbalancer, me, monitoring, servers
from clustermgr.web.api import cache as cache_api
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import api_user

router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_user)], responses=errors(401, 503))

for module in (servers, clusters, monitoring, cache_api, loadbalancer, jobs, audit, me):
    router.include_router(module.router)


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    """The OpenAPI document of this API (token required, like every API route)."""
    spec: dict[str, Any] = request.app.openapi()
    return spec
