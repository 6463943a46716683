"""Helpers every page router shares: rendering, notices after a redirect, starting jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from clustermgr.auth.roles import UserRole
from clustermgr.auth.views import SessionView
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.jobs import service as jobs
from clustermgr.jobs.views import JobView
from clustermgr.monitor import read
from clustermgr.web.context import WebContext
from clustermgr.web.deps import WebDep

#: What a redirect's ``?done=`` shows. Only these fixed sentences: never echo the query.
NOTICES: Mapping[str, str] = {
    "server-added": "Server added.",
    "server-saved": "Changes saved.",
    "server-removed": "Server removed.",
    "host-key-trusted": "The server's new host key is trusted.",
    "cancel-requested": "Cancel requested: the job stops after its current step.",
    "totp-enabled": "Two-factor authentication is on.",
    "totp-disabled": "Two-factor authentication is off.",
    "token-revoked": "Token revoked.",
    "admin-created": "The administrator was created: sign in with its name and password.",
    "channel-added": "Channel added.",
    "channel-saved": "Channel saved.",
    "channel-removed": "Channel removed.",
    "channel-enabled": "Channel switched on.",
    "channel-disabled": "Channel switched off: what waited for it was dropped.",
    "test-sent": "Test message sent: the relay or receiver took it.",
}

#: Rows per page of the job history and the audit trail.
PAGE_SIZE = 25


def render(
    web: WebContext,
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    notice = NOTICES.get(request.query_params.get("done", ""))
    return web.templates.TemplateResponse(
        request, template, {"notice": notice, **(context or {})}, status_code=status
    )


async def alert_badge(request: Request, web: WebDep) -> None:
    """The page header's count of open critical alerts (``open_critical`` in templates):
    one count per full page, kept until the database changes; a form post or a live
    part's refresh (htmx) skips it."""
    if request.method == "GET" and "hx-request" not in request.headers:
        request.state.open_critical = await web.manager.db.reads.get(
            "open-critical", lambda: read.open_critical(web.manager)
        )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_status(exc: ClustermgrError) -> int:
    from clustermgr.web.errors import status_for

    return status_for(exc)


def actor(session: SessionView) -> str:
    return session.user.username


def role(session: SessionView) -> UserRole:
    return session.user.role


def parse_int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput(f"invalid {what} {value!r}", hint="a whole number") from None


async def start_job(
    web: WebContext,
    session: SessionView,
    *,
    kind: str,
    cluster: str,
    params: dict[str, Any] | None = None,
) -> JobView:
    """Submit a job as the session's user (the service audits it, a refused job too)."""
    return await jobs.submit(
        web.manager,
        web.runner,
        kind_name=kind,
        cluster=cluster,
        user=actor(session),
        params=params,
        as_role=role(session),
    )
