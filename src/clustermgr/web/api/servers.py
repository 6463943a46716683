"""/api/v1/servers: list, add (with host-key confirmation), trust a new host key, remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from clustermgr.inventory.schemas import NodeState, ServerSpec
from clustermgr.redact import Secret
from clustermgr.services import servers
from clustermgr.web.api.models import (
    ClusterName,
    HostKeyCheckPublic,
    HostKeyErrorPublic,
    HostKeyPublic,
    HostKeyTrust,
    ServerCreate,
    ServerPublic,
)
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
        state=(NodeState.JOINING if body.joining else NodeState.MEMBER).value,
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


def _check_public(check: servers.HostKeyCheck) -> HostKeyCheckPublic:
    return HostKeyCheckPublic(
        pinned=[
            HostKeyPublic(algorithm=k.algorithm, fingerprint=k.fingerprint)
            for k in check.server.host_keys
        ],
        presented=HostKeyPublic(
            algorithm=check.presented.algorithm, fingerprint=check.presented.fingerprint
        ),
        trusted=check.trusted,
    )


@router.get("/clusters/{cluster}/servers/{hostname}/host-key", responses=errors(404, 422, 502))
async def host_key(cluster: ClusterName, hostname: Hostname, web: WebDep) -> HostKeyCheckPublic:
    """The pinned host keys beside the key the server presents now (no login)."""
    return _check_public(await servers.check_host_key(web.manager, cluster, hostname))


@router.post(
    "/clusters/{cluster}/servers/{hostname}/trust",
    responses=errors(400, 403, 404, 409, 422, 502, c409=HostKeyErrorPublic),
)
async def trust_host_key(
    cluster: ClusterName, hostname: Hostname, body: HostKeyTrust, web: WebDep, user: ApiUser
) -> HostKeyCheckPublic:
    """Pin the key the server presents now (after a reinstall) instead of its pinned keys.

    ``fingerprint`` is the presented key's, as a person compared it with the
    server's own; another answers 409 ``host_key_mismatch`` and nothing changes.
    """
    check = await servers.trust_host_key(
        web.manager, cluster, hostname, body.fingerprint, actor=user.username, as_role=user.role
    )
    return _check_public(check)
