"""/api/v1/clusters: list, look up, start a plan (a dry run) of one; LDAP compare, reinit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from clustermgr.services import ldap_repair, servers
from clustermgr.web.api.jobs import start_job
from clustermgr.web.api.models import ClusterPublic, JobPublic, LdapReinit
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["clusters"])

ClusterName = Annotated[str, Path(max_length=64)]


@router.get("")
async def list_clusters(web: WebDep) -> list[ClusterPublic]:
    return [ClusterPublic.of(c) for c in await servers.list_clusters(web.manager)]


@router.get("/{name}", responses=errors(404, 422))
async def get_cluster(name: ClusterName, web: WebDep) -> ClusterPublic:
    return ClusterPublic.of(await servers.get_cluster(web.manager, name))


@router.post("/{name}/plan", status_code=202, responses=errors(404, 409, 422))
async def plan_cluster(
    name: ClusterName, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start a `plan` job: what base preparation would change. Changes nothing."""
    return await start_job(web, user, response, kind="plan", cluster=name, params={})


@router.post("/{name}/ldap/compare", status_code=202, responses=errors(404, 409, 422))
async def ldap_compare(
    name: ClusterName, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start an `ldap-compare` job: are the identity nodes' directories identical? Read only."""
    return await start_job(web, user, response, kind="ldap-compare", cluster=name, params={})


@router.post("/{name}/ldap/reinit", status_code=202, responses=errors(400, 404, 409, 422))
async def ldap_reinit(
    name: ClusterName, body: LdapReinit, web: WebDep, user: ApiUser, response: Response
) -> JobPublic:
    """Start an `ldap-reinit` job: replace `node`'s directory with a copy of `source`'s.

    Every change on `node` that has not reached `source` is lost, so `confirm`
    must be true; the job's first event says how far `node` was ahead.
    """
    await ldap_repair.check_request(web.manager, name, body.node, body.source, body.confirm)
    params = {"node": body.node, "source": body.source, "confirm": True}
    return await start_job(web, user, response, kind="ldap-reinit", cluster=name, params=params)
