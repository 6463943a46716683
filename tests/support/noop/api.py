"""/api/v1/clusters/{name}/noop: the component's status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from clustermgr.web.deps import WebDep
from noop.jobs import status

router = APIRouter(prefix="/clusters", tags=["noop"])


@router.get("/{name}/noop")
async def noop_status(name: str, web: WebDep) -> dict[str, Any]:
    return (await status(web.manager, name)).as_dict()
