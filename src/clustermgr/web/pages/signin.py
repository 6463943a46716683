"""Sign in, sign out, and the one-time setup of the first admin."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clustermgr.auth import service as auth
from clustermgr.errors import ClustermgrError, CsrfRejected
from clustermgr.redact import Secret
from clustermgr.web.deps import WebDep
from clustermgr.web.errors import status_for
from clustermgr.web.pages.common import NOTICES
from clustermgr.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    new_token,
    same,
    set_cookie,
    submitted_csrf,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a fresh session to another site.

    Browsers read a backslash as a slash (``/\\evil.example`` is
    ``//evil.example``) and drop tabs and newlines, so neither may appear.
    """
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return "/"
    return target


def _form_page(
    web: WebDep, request: Request, template: str, status: int = 200, **context: object
) -> Response:
    token = new_token()
    response = web.templates.TemplateResponse(
        request, template, {"login_csrf": token, **context}, status_code=status
    )
    set_cookie(response, LOGIN_CSRF_COOKIE, token, secure=web.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, web: WebDep, next: str = "/", done: str = "") -> Response:
    notice = NOTICES.get(done)
    return _form_page(web, request, "login.html", next=_safe_next(next), notice=notice)


@router.post("/login")
async def login(
    request: Request,
    web: WebDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    totp: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise CsrfRejected("the sign-in form expired; reload the page and retry")
    try:
        user = await auth.authenticate(
            web.manager,
            username.strip().lower(),
            Secret(password, label="password"),
            totp_code=totp.strip() or None,
            client=client_address(request),
        )
    except ClustermgrError as exc:
        status = status_for(exc)
        response = _form_page(
            web,
            request,
            "login.html",
            status=status,
            error=exc,
            username=username,
            next=_safe_next(next),
            ask_totp=exc.code == "totp_required",
        )
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
        return response
    token, _ = await auth.start_session(web.manager, user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(
        response,
        SESSION_COOKIE,
        token,
        secure=web.secure_cookies,
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, web: WebDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    session = await auth.session_for(web.manager, token) if token else None
    if session is not None:
        if not same(await submitted_csrf(request), session.csrf_token):
            raise CsrfRejected("sign-out needs the page's security token")
        await auth.end_session(web.manager, token or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request, web: WebDep, token: str = "") -> Response:
    return _form_page(web, request, "setup.html", token=token)


@router.post("/setup")
async def setup(
    request: Request,
    web: WebDep,
    token: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise CsrfRejected("the setup form expired; reload the page and retry")
    try:
        await auth.complete_setup(
            web.manager, token, username.strip().lower(), Secret(password, label="password")
        )
    except ClustermgrError as exc:
        return _form_page(
            web,
            request,
            "setup.html",
            status=status_for(exc),
            error=exc,
            token=token,
            username=username,
        )
    return RedirectResponse("/login?done=admin-created", status_code=303)
