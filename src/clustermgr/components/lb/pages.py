"""A cluster's load balancer page: backends by state, response times, NGINX's counters,
maintenance.

The backends part is also served alone (``/live``) and refreshes itself every
watcher interval.  What it shows is the watcher's latest ``lb`` check; the
buttons start jobs (plan, status, drain, undrain, rolling restart); the
locations form stores which upstream serves each location, with the SCIM caveat
beside it, and the certificate form where the HTTPS certificate comes from.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb import view as lbview
from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.settings import (
    DEFAULT_LOCATIONS,
    PATH_RULE,
    SCIM_CAVEAT,
    CertificateSource,
    Upstream,
)
from clustermgr.errors import InvalidInput
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import watched
from clustermgr.web.pages.common import actor, redirect, render, role, start_job

router = APIRouter()

#: Buttons that start a job with no parameter: path -> job kind.
ACTIONS = {"plan": "lb-plan", "status": "lb-status", "rolling-restart": "lb-rolling-restart"}


async def _context(web: WebContext, name: str) -> dict[str, Any]:
    context = await watched.context(web, name, COMPONENT)
    history = await watched.history(web, name, COMPONENT)
    return context | {"charts": lbview.charts(context["members"], history)}


@router.get("/clusters/{name}/lb", response_class=HTMLResponse)
async def lb_page(request: Request, web: WebDep, name: str) -> Response:
    context = await _context(web, name)
    settings = await lb_settings.lb_settings(web.manager, name)
    context |= {
        "settings": settings,
        "defaults": DEFAULT_LOCATIONS,
        "upstreams": list(Upstream),
        "caveat": SCIM_CAVEAT,
        "sources": list(CertificateSource),
        "path_rule": PATH_RULE,
        "jobs": await watched.recent_jobs(web, name, "lb-"),
    }
    return render(web, request, "lb/page.html", context)


@router.get("/clusters/{name}/lb/live", response_class=HTMLResponse)
async def lb_live(request: Request, web: WebDep, name: str) -> Response:
    return render(web, request, "lb/live.html", await _context(web, name))


@router.post("/clusters/{name}/lb/{action}")
async def run(web: WebDep, session: SessionDep, name: str, action: str) -> Response:
    kind = ACTIONS.get(action)
    if kind is None:
        raise InvalidInput(f"no load balancer action {action!r}")
    job = await start_job(web, session, kind=kind, cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/lb/node/{verb}")
async def rotation(
    web: WebDep, session: SessionDep, name: str, verb: str, node: Annotated[str, Form()]
) -> Response:
    if verb not in ("drain", "undrain"):
        raise InvalidInput(f"no node action {verb!r}")
    job = await start_job(web, session, kind=f"lb-{verb}", cluster=name, params={"node": node})
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/lb-locations")
async def locations(request: Request, web: WebDep, session: SessionDep, name: str) -> Response:
    """One select per location; taken at the next apply."""
    form = await request.form()
    chosen = {
        path: str(value)
        for path in DEFAULT_LOCATIONS
        if (value := form.get(f"loc:{path}")) is not None
    }
    await lb_settings.change(
        web.manager, name, {"locations": chosen}, actor=actor(session), as_role=role(session)
    )
    return redirect(f"/clusters/{name}/lb")


@router.post("/clusters/{name}/lb-certificate")
async def certificate(
    web: WebDep,
    session: SessionDep,
    name: str,
    source: Annotated[str, Form()],
    cert_file: Annotated[str, Form()] = "",
    key_file: Annotated[str, Form()] = "",
) -> Response:
    """The certificate's source: the cluster CA, or files on the proxy; taken at the next
    apply."""
    update = {
        "certificate": source,
        "cert_file": cert_file.strip() or None,
        "key_file": key_file.strip() or None,
    }
    await lb_settings.change(web.manager, name, update, actor=actor(session), as_role=role(session))
    return redirect(f"/clusters/{name}/lb")
