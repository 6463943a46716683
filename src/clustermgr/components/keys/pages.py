"""A cluster's signing keys page: the sealed keys (which signs, when the manager made
each), the rotation in progress with its phase, the settings, and the rotation.

"Rotate keys" shows the rotation's plan first (the phases left and what each does,
read from the inventory); "Run the rotation" there starts the ``keys-rotate`` job.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.keys import settings, store
from clustermgr.components.keys.jobs import ROTATE_KIND
from clustermgr.components.keys.rotate import rotate
from clustermgr.components.keys.status import next_due, sealed
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.web.context import WebContext
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import watched
from clustermgr.web.pages.common import actor, redirect, render, role, start_job

router = APIRouter()

#: Buttons that start a job: path -> job kind.
ACTIONS = {"rotate": ROTATE_KIND, "status": "keys-status"}


async def _context(web: WebContext, name: str, values: dict[str, Any]) -> dict[str, Any]:
    context = await watched.context(web, name, store.COMPONENT)
    state = await store.keys_state(web.manager, name)
    due = next_due(state, utcnow())
    return context | {
        "sealed": (await sealed(web.manager, name)).as_dict(),
        "next_due": due.isoformat(timespec="seconds") if due else None,
        "values": values,
        "ranges": {
            settings.TOKEN_LIFETIME_KEY: settings.TOKEN_LIFETIME_RANGE,
            settings.ROTATE_EVERY_DAYS_KEY: settings.ROTATE_EVERY_DAYS_RANGE,
        },
        "jobs": await watched.recent_jobs(web, name, "keys-"),
    }


@router.get("/clusters/{name}/keys", response_class=HTMLResponse)
async def keys_page(
    request: Request, web: WebDep, name: str, plan: str = "", saved: str = ""
) -> Response:
    state = await store.keys_state(web.manager, name)
    context = await _context(web, name, state.settings.as_dict())
    context["saved"] = saved == "1"
    if plan == "1":
        try:
            context["plan"] = (await rotate(web.manager, name, dry_run=True)).as_dict()
        except InvalidInput as exc:
            context["error"] = exc
    return render(web, request, "keys/page.html", context)


@router.post("/clusters/{name}/keys/{action}")
async def run(web: WebDep, session: SessionDep, name: str, action: str) -> Response:
    kind = ACTIONS.get(action)
    if kind is None:
        raise InvalidInput(f"no signing keys action {action!r}")
    job = await start_job(web, session, kind=kind, cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/keys-settings")
async def save_settings(request: Request, web: WebDep, session: SessionDep, name: str) -> Response:
    """The form's values (the page again with the error, 400, when one is not allowed;
    nothing is kept then).  An empty schedule turns it off."""
    form = await request.form()
    update = {k: str(form[k]) for k in settings.EDITABLE if k in form}
    try:
        await store.change_settings(
            web.manager, name, update, actor=actor(session), as_role=role(session)
        )
    except InvalidInput as exc:
        context = await _context(web, name, update) | {"error": exc}
        return render(web, request, "keys/page.html", context, status=400)
    return redirect(f"/clusters/{name}/keys?saved=1")
