"""A cluster's LDAP replication page: topology by health, lag per pair, probes, history.

The health part is also served alone (``/live``) and refreshes itself every few
seconds.  Everything shown comes from the watcher's latest cycle and its
history; the buttons start jobs (plan, status, compare) like the cluster's page
does.  Re-initialising a node goes through a page that reads the nodes and says
what would be lost, and a confirmation box.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap import view as ldapview
from clustermgr.components.ldap.findings import COMPONENT
from clustermgr.components.ldap.replicated import is_set_up
from clustermgr.core.access import get_cluster
from clustermgr.jobs import service as jobs
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import watched
from clustermgr.web.pages.common import redirect, render, role, start_job

router = APIRouter()


async def _context(web: WebContext, name: str) -> dict[str, Any]:
    context = await watched.context(web, name, COMPONENT)
    members, snapshot = context["members"], context["snapshot"]
    history = await watched.history(web, name, COMPONENT)
    return context | {
        # Replicating, or checked by the watcher when it was: either way there is
        # a topology to draw.  Before that the page says replication is not set up.
        "set_up": snapshot is not None or await is_set_up(web.manager, name),
        "topology": ldapview.topology(members, snapshot, context["open_alerts"]),
        "charts": ldapview.charts(members, history),
    }


@router.get("/clusters/{name}/ldap", response_class=HTMLResponse)
async def replication_page(request: Request, web: WebDep, name: str) -> Response:
    context = await _context(web, name)
    context["jobs"] = await watched.recent_jobs(web, name, "ldap-")
    return render(web, request, "ldap/page.html", context)


@router.get("/clusters/{name}/ldap/live", response_class=HTMLResponse)
async def replication_live(request: Request, web: WebDep, name: str) -> Response:
    return render(web, request, "ldap/live.html", await _context(web, name))


@router.post("/clusters/{name}/ldap/plan")
async def plan(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="ldap-plan", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/ldap/status")
async def status(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="ldap-status", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/ldap/compare")
async def compare(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="ldap-compare", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.get("/clusters/{name}/ldap/reinit", response_class=HTMLResponse)
async def reinit_page(
    request: Request, web: WebDep, name: str, node: str = "", source: str = ""
) -> Response:
    """What re-initialising ``node`` from ``source`` would lose, read from both nodes now."""
    cluster = await get_cluster(web.manager, name)
    loss = await ldap_repair.preview(web.manager, name, node, source)
    context = {"cluster": cluster, "node": node, "source": source, "loss": loss}
    return render(web, request, "ldap/reinit.html", context)


@router.post("/clusters/{name}/ldap/reinit")
async def reinit(
    web: WebDep,
    session: SessionDep,
    name: str,
    node: Annotated[str, Form()],
    source: Annotated[str, Form()],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    jobs.may_start(web.runner, "ldap-reinit", role(session))
    await ldap_repair.check_request(web.manager, name, node, source, confirm == "yes")
    params = {"node": node, "source": source, "confirm": True}
    job = await start_job(web, session, kind="ldap-reinit", cluster=name, params=params)
    return redirect(f"/jobs/{job.id}")
