"""/api/v1/clusters: list, look up, change the settings of, start a plan (a dry run) of one."""

from __future__ import annotations

from fastapi import APIRouter, Response

from clustermgr.core import access
from clustermgr.inventory.schemas import ClusterSettingsUpdate
from clustermgr.services import clusters, servers
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


@router.patch("/{name}/settings", responses=errors(400, 403, 404, 422))
async def update_settings(
    name: ClusterName, body: ClusterSettingsUpdate, web: WebDep, user: ApiUser
) -> ClusterPublic:
    """Change the cluster's settings (admins): ``public_hostname``, the name clients reach
    the cluster by and every identity node's issuer; ``null`` goes back to the proxy's
    hostname. Taken by the load balancer at its next ``lb-apply``."""
    view = await clusters.change_settings(
        web.manager, name, body, actor=user.username, as_role=user.role
    )
    return ClusterPublic.of(view)


@router.post("/{name}/plan", status_code=202, responses=errors(404, 409, 422))
async def plan_cluster(
    name: ClusterName, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start a `plan` job: what base preparation would change. Changes nothing."""
    return await start_job(web, user, response, kind="plan", cluster=name, params={})
