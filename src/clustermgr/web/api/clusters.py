"""/api/v1/clusters: list, look up, change the settings of, start a plan (a dry run) of
one, its deploy stages."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from clustermgr.core import access
from clustermgr.inventory.schemas import ClusterSettingsUpdate
from clustermgr.jobs import stages
from clustermgr.jobs.stages import StageState
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


class ActionPublic(BaseModel):
    label: str
    href: str = Field(description="A GUI page (GET) or GUI route (POST) that does it.")
    method: str
    role: str = Field(description="The least role that may do it.")


class StagePublic(BaseModel):
    key: str = Field(description="`servers`, `preflight`, or a component's name.")
    title: str
    state: StageState
    job: int | None = Field(description="The job its state comes from.")
    detail: str
    action: ActionPublic | None
    next: bool = Field(description="The cluster's next action is this stage's.")


class StagesPublic(BaseModel):
    stages: list[StagePublic]
    next: ActionPublic | None = Field(
        description="What to do next (null once every stage is applied)."
    )


@router.get("/{name}/stages", responses=errors(404, 422))
async def cluster_stages(name: ClusterName, web: WebDep) -> StagesPublic:
    """The deploy's stages in order (servers, preflight, then each change) with their
    states (not started, done, planned, applied, drifted, failed, failing) and the next
    action.  Start the whole deploy's plan as a `deploy-plan` job."""
    board = await stages.load(web.manager, name, web.stages)
    return StagesPublic.model_validate(board.as_dict())
