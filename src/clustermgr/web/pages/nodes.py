"""A cluster's identity nodes: add one to the running cluster, resume an add that
stopped, take one out.

Adding is the server add's form and host key confirmation (:mod:`.servers`), the role
identity and the server stored as ``joining``; once it is stored the ``node-add`` job
starts and the browser lands on its page.  Taking a node out first shows what that
loses (read from the components' stores, and whether the node's SSH port answers),
then starts ``node-remove``.  Both kinds need an admin: the routes ask before they
change anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from clustermgr.core.access import get_cluster
from clustermgr.errors import ClustermgrError, InvalidInput, JobConflict
from clustermgr.inventory.schemas import NodeState
from clustermgr.jobs import service as jobs
from clustermgr.jobs import store as job_store
from clustermgr.jobs.lifecycle import ADD_KIND, REMOVE_KIND, removable
from clustermgr.topology import Role
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import error_status, redirect, render, role, start_job
from clustermgr.web.pages.servers import AddForm, AddTarget, add_from_form, form_page

router = APIRouter()


@router.get("/clusters/{name}/nodes/add", response_class=HTMLResponse)
async def add_page(request: Request, web: WebDep, name: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    form = AddForm(cluster=cluster.name, state=NodeState.JOINING)
    return form_page(web, request, form, target=AddTarget.joining(cluster.name))


@router.post("/clusters/{name}/nodes/add", response_class=HTMLResponse)
async def add(
    request: Request,
    web: WebDep,
    session: SessionDep,
    name: str,
    hostname: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    ssh_port: Annotated[str, Form()] = "22",
    ssh_user: Annotated[str, Form()] = "root",
    private_key: Annotated[str, Form()] = "",
    key_file: UploadFile | None = None,
    passphrase: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
) -> Response:
    """Store the node as joining (its host key confirmed first), then start ``node-add``."""
    jobs.may_start(web.runner, ADD_KIND, role(session))
    cluster = await get_cluster(web.manager, name)
    form = AddForm(
        cluster.name,
        hostname,
        address,
        ssh_port,
        ssh_user,
        Role.IDENTITY.value,
        "",
        passphrase,
        NodeState.JOINING,
    )
    added = await add_from_form(
        web,
        request,
        session,
        form,
        private_key=private_key,
        key_file=key_file,
        fingerprint=fingerprint,
        target=AddTarget.joining(cluster.name),
        check=lambda: _idle(web, cluster.name),
    )
    if isinstance(added, Response):
        return added
    try:
        job = await start_job(
            web, session, kind=ADD_KIND, cluster=name, params={"node": added.hostname}
        )
    except ClustermgrError as exc:
        exc.hint = (
            f"{added.hostname} is stored as joining: start its job again with "
            f"“Resume adding” on the cluster's page{'; ' + exc.hint if exc.hint else ''}"
        )
        raise
    return redirect(f"/jobs/{job.id}")


async def _idle(web: WebDep, name: str) -> None:
    """JobConflict while a job changes the cluster: the node would be stored, and its
    job refused."""
    busy = await job_store.active_mutating(web.manager, name)
    if busy is not None:
        raise JobConflict(
            f"job #{busy.id} ({busy.kind}, {busy.state.value}) is changing cluster {name!r}",
            hint="wait for it to finish, or cancel it, then add the node",
        )


@router.post("/clusters/{name}/nodes/{hostname}/resume")
async def resume(web: WebDep, session: SessionDep, name: str, hostname: str) -> Response:
    """Run ``node-add`` again on a node still joining: it takes up where it stopped."""
    jobs.may_start(web.runner, ADD_KIND, role(session))
    cluster = await get_cluster(web.manager, name)
    server = next((s for s in cluster.servers if s.hostname == hostname), None)
    if server is None or server.state is not NodeState.JOINING:
        state = "not in the cluster" if server is None else server.state.value
        raise InvalidInput(
            f"{hostname} is {state}: only a node still joining is resumed",
            hint="add a new node with “Add a node” on the cluster's page",
        )
    job = await start_job(web, session, kind=ADD_KIND, cluster=name, params={"node": hostname})
    return redirect(f"/jobs/{job.id}")


async def _removal_page(web: WebDep, request: Request, name: str, hostname: str) -> Response:
    """The confirmation, or (400) the reason the node may not be taken out."""
    cluster = await get_cluster(web.manager, name)
    context: dict[str, object] = {"cluster": cluster, "hostname": hostname}
    status = 200
    try:
        context["removal"] = await web.nodes.removal(web.manager, name, hostname)
    except InvalidInput as refused:
        context["refused"] = refused
        status = error_status(refused)
    return render(web, request, "clusters/node_remove.html", context, status=status)


@router.get("/clusters/{name}/nodes/{hostname}/remove", response_class=HTMLResponse)
async def remove_page(request: Request, web: WebDep, name: str, hostname: str) -> Response:
    """What taking the node out loses, and the confirmation (none for a node that may
    not be taken out: the reason instead)."""
    return await _removal_page(web, request, name, hostname)


@router.post("/clusters/{name}/nodes/{hostname}/remove", response_class=HTMLResponse)
async def remove(
    request: Request,
    web: WebDep,
    session: SessionDep,
    name: str,
    hostname: str,
    uninstall: Annotated[str, Form()] = "",
) -> Response:
    jobs.may_start(web.runner, REMOVE_KIND, role(session))
    try:
        removable(await get_cluster(web.manager, name), hostname)
    except InvalidInput:
        return await _removal_page(web, request, name, hostname)
    params = {"node": hostname, "uninstall": uninstall == "yes"}
    job = await start_job(web, session, kind=REMOVE_KIND, cluster=name, params=params)
    return redirect(f"/jobs/{job.id}")
