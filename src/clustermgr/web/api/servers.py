"""/api/v1/servers: list, add (with host-key confirmation), remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from clustermgr.inventory.schemas import ServerSpec
from clustermgr.redact import Secret
from clustermgr.services import servers
from clustermgr.web.api.models import ClusterName, HostKeyErrorPublic, ServerCreate, ServerPublic
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(tags=["servers"])

Hostname = Annotated[str, Path(max_length=253)]


@router.get("/servers", responses=errors(422))
async def list_servers(
    web: WebDep, cluster: Annotated[str | None, Query(max_length=64)] = None
) -> list[ServerPublic]:
    """Every server, by cluster; ``cluster`` keeps one cluster's."""
    views = await servers.list_clusters(web.manager)
    return [ServerPublic.of(s) for c in views if cluster in (None, c.name) for s in c.servers]


@router.post(
    "/servers",
    status_code=201,
    responses=errors(400, 409, 422, 502, c409=HostKeyErrorPublic),
)
async def add_server(body: ServerCreate, web: WebDep, user: ApiUser) -> ServerPublic:
    """Add a server: check its host key, log in once, then store it.

    Without ``fingerprint``, a server whose key is not trusted yet answers 409
    ``host_key_unknown`` with the ``fingerprint`` it presented; post again
    with that fingerprint once a person has compared it.
    """
    spec = ServerSpec.parse(
        cluster=body.cluster,
        hostname=body.hostname,
        address=body.address,
        role=body.role.value,
        ssh_port=body.ssh_port,
        ssh_user=body.ssh_user,
    )
    key = servers.SshKeyInput(
        Secret(body.private_key.get_secret_value(), label="ssh-key"),
        Secret(body.passphrase.get_secret_value(), label="passphrase") if body.passphrase else None,
    )
    view = await servers.add_server(
        web.manager,
        spec,
        key,
        actor=user.username,
        trusted_fingerprint=body.fingerprint,
        as_role=user.role,
    )
    return ServerPublic.of(view)


@router.delete(
    "/clusters/{cluster}/servers/{hostname}",
    status_code=204,
    response_class=Response,
    responses=errors(404, 422),
)
async def remove_server(
    cluster: ClusterName, hostname: Hostname, web: WebDep, user: ApiUser
) -> Response:
    """Forget a server (nothing is changed on the server itself)."""
    await servers.remove_server(
        web.manager, cluster, hostname, actor=user.username, as_role=user.role
    )
    return Response(status_code=204)
