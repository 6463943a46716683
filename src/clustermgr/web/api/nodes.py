"""/api/v1/clusters/{cluster}/nodes/{hostname}: add an identity node to a running
cluster (a server already added as joining), take one out, and what that loses.

Both start a job (``node-add``, ``node-remove``) and answer 202 with it, as
``POST /api/v1/jobs`` does; a node that may not be taken out is 400 before any job.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from clustermgr.core.access import get_cluster
from clustermgr.jobs.lifecycle import ADD_KIND, REMOVE_KIND, removable
from clustermgr.web.api.jobs import start_job
from clustermgr.web.api.models import ClusterName, JobPublic
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(tags=["nodes"])

Hostname = Annotated[str, Path(max_length=253)]


class NodeRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uninstall: bool = Field(
        default=False,
        description="Also remove Gluu Server and its data from the node, when it answers.",
    )


class RemovalEffects(BaseModel):
    node: str
    uninstall: bool
    #: What taking the node out loses, in words.
    lost: list[str]


@router.post(
    "/clusters/{cluster}/nodes/{hostname}/add",
    status_code=202,
    responses=errors(400, 404, 409, 422, 429),
)
async def add_node(
    cluster: ClusterName, hostname: Hostname, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start ``node-add`` for a server of the cluster added as joining (``POST /servers``
    with ``joining: true``): every component sets it up, then the balancer sends it
    requests once its health check passes.  Again on a node still joining, it resumes."""
    return await start_job(
        web, user, response, kind=ADD_KIND, cluster=cluster, params={"node": hostname}
    )


@router.get("/clusters/{cluster}/nodes/{hostname}/removal-effects", responses=errors(400, 404, 422))
async def removal_effects(
    cluster: ClusterName,
    hostname: Hostname,
    web: WebDep,
    uninstall: Annotated[bool, Query()] = False,
) -> RemovalEffects:
    """What taking the node out would lose, for a person to confirm (reads only, no
    login; 400 when it may not be taken out: not in the cluster, or its last identity
    node)."""
    lost = await web.nodes.removal_effects(web.manager, cluster, hostname, uninstall=uninstall)
    return RemovalEffects(node=hostname, uninstall=uninstall, lost=lost)


@router.post(
    "/clusters/{cluster}/nodes/{hostname}/remove",
    status_code=202,
    responses=errors(400, 404, 409, 422, 429),
)
async def remove_node(
    cluster: ClusterName,
    hostname: Hostname,
    body: NodeRemove,
    web: WebDep,
    user: ApiUser,
    response: Response,
) -> JobPublic:
    """Start ``node-remove``: the balancer, the cache and replication let go of the node
    (in that order), then it leaves the inventory; a node that does not answer is taken
    out untouched.  Again on a node still leaving, it continues.  A node not in the
    cluster, or its last identity node, is 400 before any job."""
    removable(await get_cluster(web.manager, cluster), hostname)
    params = {"node": hostname, "uninstall": body.uninstall}
    return await start_job(web, user, response, kind=REMOVE_KIND, cluster=cluster, params=params)
