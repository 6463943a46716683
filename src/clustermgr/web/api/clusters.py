"""/api/v1/clusters: list, look up, start a plan (a dry run) of one."""

from __future__ import annotations

from fastapi import APIRouter, Response

from clustermgr.core import access
from clustermgr.services import servers
from clustermgr.web.api.jobs import start_job
from clustermgr.web.api.models import ClusterName, ClusterPublic, JobPublic
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["clusters"])


@router.get("")
async def list_clusters(web: WebDep) -> list[ClusterPublic]:
    return [ClusterPublic.of(c) for c in await servers.list_clusters(web.manager)]


@router.get("/{name}", responses=errors(404, 422))
async def get_cluster(name: ClusterName, web: WebDep) -> ClusterPublic:
    return ClusterPublic.of(await access.get_cluster(web.manager, name))


@router.post("/{name}/plan", status_code=202, responses=errors(404, 409, 422))
async def plan_cluster(
    name: ClusterName, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start a `plan` job: what base preparation would change. Changes nothing."""
    return await start_job(web, user, response, kind="plan", cluster=name, params={})
