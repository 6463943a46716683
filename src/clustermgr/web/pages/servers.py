"""Servers: list, add (with the host key confirmation), edit, trust a new host key, remove.

Adding takes two posts.  The first scans the host key and answers with its
fingerprint and the command that shows the server's own; the second carries
the confirmed ``fingerprint``.  The private key travels only in the two forms'
fields (the confirmation page holds it in a hidden field): it is never put in
a cookie, the session, a log or the audit trail, and is stored only sealed by
the vault once the server is added.  The cluster page's "Add a node" is the same form and
confirmation (:class:`AddTarget`, :func:`add_from_form`) for an identity node joining.

A server whose host key changed (reinstalled) is refused at every connection
until a person trusts the new key on its host key page: the pinned and the
presented fingerprints side by side, the command showing the server's own, and
a confirmation that posts the fingerprint shown (pinned only if the server
still presents it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from clustermgr.auth.views import SessionView
from clustermgr.core.access import get_cluster
from clustermgr.errors import (
    ClustermgrError,
    HostKeyMismatch,
    HostKeyUnknown,
    InvalidInput,
    NotFound,
    RemoteError,
)
from clustermgr.inventory.schemas import NodeState, ServerSpec, ServerView
from clustermgr.redact import Secret
from clustermgr.services import servers
from clustermgr.topology import Role
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import present
from clustermgr.web.pages.common import actor, error_status, parse_int, redirect, render
from clustermgr.web.pages.common import role as access_role

router = APIRouter()

#: An SSH private key is a few KiB; refuse anything much larger.
MAX_KEY_BYTES = 64 * 1024
ROLES = [role.value for role in Role]


@dataclass(frozen=True)
class AddTarget:
    """What the add form adds and where it posts: a server of any role to any cluster,
    or (``node``) an identity node joining a running cluster, its role and cluster fixed."""

    action: str = "/servers/add"
    title: str = "Add a server"
    cancel: str = "/servers"
    node: bool = False

    @classmethod
    def joining(cls, cluster: str) -> AddTarget:
        return cls(
            f"/clusters/{cluster}/nodes/add",
            f"Add a node to {cluster}",
            f"/clusters/{cluster}",
            True,
        )


@dataclass
class AddForm:
    """What the person typed, to fill the form again (the key only in form fields)."""

    cluster: str = ""
    hostname: str = ""
    address: str = ""
    ssh_port: str = "22"
    ssh_user: str = "root"
    role: str = Role.IDENTITY.value
    private_key: str = ""
    passphrase: str = ""
    state: NodeState = NodeState.MEMBER

    def spec(self) -> ServerSpec:
        return ServerSpec.parse(
            cluster=self.cluster.strip(),
            hostname=self.hostname,
            address=self.address.strip() or None,
            role=self.role,
            ssh_port=parse_int(self.ssh_port, "SSH port"),
            ssh_user=self.ssh_user.strip(),
            state=self.state.value,
        )

    def key(self) -> servers.SshKeyInput:
        """The key the manager logs in with: the only way it does (no agent, no ~/.ssh)."""
        if not self.private_key.strip():
            raise InvalidInput(
                "an SSH private key is needed: the manager logs in with the key you give "
                "here, never with its own SSH agent or keys",
                hint="paste the private key, or choose its file",
            )
        passphrase = Secret(self.passphrase, label="passphrase") if self.passphrase else None
        return servers.SshKeyInput(Secret(self.private_key, label="ssh-key"), passphrase)


async def _key_text(text: str, upload: UploadFile | None) -> str:
    """The private key from the file, else from the text area; line ends made Unix."""
    if upload is not None and upload.filename:
        data = await upload.read(MAX_KEY_BYTES + 1)
        if len(data) > MAX_KEY_BYTES:
            raise InvalidInput("the key file is too large to be an SSH private key")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise InvalidInput("the key file is not a text (OpenSSH or PEM) private key") from None
    text = text.replace("\r\n", "\n").strip()
    return f"{text}\n" if text else ""


def form_page(
    web: WebDep,
    request: Request,
    form: AddForm,
    error: ClustermgrError | None = None,
    target: AddTarget = AddTarget(),
) -> Response:
    status = error_status(error) if error else 200
    context = {"form": form, "roles": ROLES, "error": error, "target": target}
    return render(web, request, "servers/add.html", context, status=status)


async def add_from_form(
    web: WebDep,
    request: Request,
    session: SessionView,
    form: AddForm,
    *,
    private_key: str,
    key_file: UploadFile | None,
    fingerprint: str,
    target: AddTarget = AddTarget(),
    check: Callable[[], Awaitable[None]] | None = None,
) -> ServerView | Response:
    """Add the server the form describes: the server added, or the page to show instead
    (its host key to confirm, or the form again with the error and what was typed).
    ``check`` refuses the add (a ClustermgrError) before the server is contacted."""
    try:
        form.private_key = await _key_text(private_key, key_file)
        spec = form.spec()
        if check is not None:
            await check()
        return await servers.add_server(
            web.manager,
            spec,
            form.key(),
            actor=actor(session),
            trusted_fingerprint=fingerprint.strip() or None,
            as_role=access_role(session),
        )
    except HostKeyUnknown as unknown:
        context = {
            "form": form,
            "target": target,
            "fingerprint": unknown.fingerprint,
            "algorithm": unknown.algorithm,
            "command": present.compare_command(unknown.algorithm),
        }
        return render(web, request, "servers/confirm_key.html", context)
    except ClustermgrError as exc:
        return form_page(web, request, form, exc, target)


@router.get("/servers", response_class=HTMLResponse)
async def server_list(request: Request, web: WebDep) -> Response:
    clusters = await servers.list_clusters(web.manager)
    return render(web, request, "servers/list.html", {"clusters": clusters})


@router.get("/servers/add", response_class=HTMLResponse)
async def add_page(request: Request, web: WebDep, cluster: str = "") -> Response:
    return form_page(web, request, AddForm(cluster=cluster))


@router.post("/servers/add", response_class=HTMLResponse)
async def add(
    request: Request,
    web: WebDep,
    session: SessionDep,
    cluster: Annotated[str, Form()] = "",
    hostname: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    ssh_port: Annotated[str, Form()] = "22",
    ssh_user: Annotated[str, Form()] = "root",
    role: Annotated[str, Form()] = Role.IDENTITY.value,
    private_key: Annotated[str, Form()] = "",
    key_file: UploadFile | None = None,
    passphrase: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
) -> Response:
    form = AddForm(cluster, hostname, address, ssh_port, ssh_user, role, "", passphrase)
    added = await add_from_form(
        web,
        request,
        session,
        form,
        private_key=private_key,
        key_file=key_file,
        fingerprint=fingerprint,
    )
    if isinstance(added, Response):
        return added
    return redirect(f"/clusters/{added.cluster}?done=server-added")


async def _server(web: WebDep, cluster: str, hostname: str) -> ServerView:
    view = await get_cluster(web.manager, cluster)
    for server in view.servers:
        if server.hostname == hostname:
            return server
    raise NotFound(f"no server {hostname!r} in cluster {cluster!r}")


@router.get("/servers/{cluster}/{hostname}", response_class=HTMLResponse)
async def server_page(request: Request, web: WebDep, cluster: str, hostname: str) -> Response:
    server = await _server(web, cluster, hostname)
    form = {
        "address": server.address,
        "ssh_port": str(server.ssh_port),
        "ssh_user": server.ssh_user,
        "role": server.role.value,
    }
    context = {"server": server, "form": form, "roles": ROLES}
    return render(web, request, "servers/detail.html", context)


@router.post("/servers/{cluster}/{hostname}", response_class=HTMLResponse)
async def edit(
    request: Request,
    web: WebDep,
    session: SessionDep,
    cluster: str,
    hostname: str,
    address: Annotated[str, Form()] = "",
    ssh_port: Annotated[str, Form()] = "22",
    ssh_user: Annotated[str, Form()] = "root",
    role: Annotated[str, Form()] = Role.IDENTITY.value,
) -> Response:
    before = await _server(web, cluster, hostname)
    form = {"address": address, "ssh_port": ssh_port, "ssh_user": ssh_user, "role": role}
    try:
        await servers.update_server(
            web.manager,
            cluster,
            hostname,
            address=address.strip(),
            ssh_port=parse_int(ssh_port, "SSH port"),
            ssh_user=ssh_user.strip(),
            role=role,
            actor=actor(session),
            as_role=access_role(session),
        )
    except ClustermgrError as exc:
        context = {"server": before, "form": form, "roles": ROLES, "error": exc}
        return render(web, request, "servers/detail.html", context, status=error_status(exc))
    return redirect(f"/servers/{cluster}/{hostname}?done=server-saved")


@router.get("/servers/{cluster}/{hostname}/remove", response_class=HTMLResponse)
async def remove_page(request: Request, web: WebDep, cluster: str, hostname: str) -> Response:
    server = await _server(web, cluster, hostname)
    return render(web, request, "servers/remove.html", {"server": server})


@router.post("/servers/{cluster}/{hostname}/remove")
async def remove(web: WebDep, session: SessionDep, cluster: str, hostname: str) -> Response:
    await servers.remove_server(
        web.manager, cluster, hostname, actor=actor(session), as_role=access_role(session)
    )
    return redirect(f"/clusters/{cluster}?done=server-removed")


async def _host_key_page(
    web: WebDep,
    request: Request,
    cluster: str,
    hostname: str,
    error: ClustermgrError | None = None,
) -> Response:
    server = await _server(web, cluster, hostname)
    context: dict[str, object] = {"server": server, "error": error, "check": None}
    try:
        check = await servers.check_host_key(web.manager, cluster, hostname)
    except RemoteError as exc:  # unreachable: say so on the page
        context["error"] = error or exc
    else:
        context.update(check=check, command=present.compare_command(check.presented.algorithm))
    status = error_status(error) if error else 200
    return render(web, request, "servers/host_key.html", context, status=status)


@router.get("/servers/{cluster}/{hostname}/host-key", response_class=HTMLResponse)
async def host_key_page(request: Request, web: WebDep, cluster: str, hostname: str) -> Response:
    return await _host_key_page(web, request, cluster, hostname)


@router.post("/servers/{cluster}/{hostname}/host-key", response_class=HTMLResponse)
async def trust_host_key(
    request: Request,
    web: WebDep,
    session: SessionDep,
    cluster: str,
    hostname: str,
    fingerprint: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    try:
        await servers.trust_host_key(
            web.manager,
            cluster,
            hostname,
            fingerprint,
            actor=actor(session),
            as_role=access_role(session),
        )
    except (HostKeyMismatch, InvalidInput) as exc:
        return await _host_key_page(web, request, cluster, hostname, exc)
    return redirect(f"/servers/{cluster}/{hostname}?done=host-key-trusted")
