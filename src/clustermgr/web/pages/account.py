"""The signed-in user's account: two-factor authentication (TOTP) and API tokens.

Enrolling takes two posts: the first makes a secret and shows it (as the
``otpauth://`` URI and as text for manual entry); the second carries the
secret back in a hidden field with a code from the app, and only then is it
stored.  A new API token is shown once, on the page that created it.  The auth
service writes the audit entries of all these changes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.auth import service as auth
from clustermgr.auth.totp import totp_uri
from clustermgr.auth.views import SessionView
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.redact import Secret
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import actor, error_status, redirect, render

router = APIRouter()


async def _account(
    web: WebDep,
    request: Request,
    session: SessionView,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    tokens = await auth.list_api_tokens(web.manager, actor(session))
    context = {"account": session.user, "tokens": tokens, **extra}
    return render(web, request, "account/index.html", context, status=status)


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request, web: WebDep, session: SessionDep) -> Response:
    return await _account(web, request, session)


@router.post("/account/totp/begin", response_class=HTMLResponse)
async def totp_begin(request: Request, web: WebDep, session: SessionDep) -> Response:
    secret, uri = await auth.begin_totp(web.manager, actor(session))
    context = {"secret": secret.reveal(), "uri": uri}
    return render(web, request, "account/totp.html", context)


@router.post("/account/totp/enable", response_class=HTMLResponse)
async def totp_enable(
    request: Request,
    web: WebDep,
    session: SessionDep,
    secret: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
) -> Response:
    typed = Secret(secret.strip(), label="totp")
    try:
        uri = totp_uri(typed, actor(session))
    except InvalidInput as exc:
        # No secret to show again: back to the account page, where set-up starts anew.
        return await _account(web, request, session, status=error_status(exc), totp_error=exc)
    try:
        await auth.enable_totp(web.manager, actor(session), typed, code.strip())
    except InvalidInput as exc:
        context = {"secret": typed.reveal(), "uri": uri, "error": exc}
        return render(web, request, "account/totp.html", context, status=error_status(exc))
    return redirect("/account?done=totp-enabled")


@router.post("/account/totp/disable", response_class=HTMLResponse)
async def totp_disable(
    request: Request,
    web: WebDep,
    session: SessionDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if confirm != "yes":
        error = InvalidInput("not confirmed", hint="tick the box to turn two-factor off")
        return await _account(web, request, session, status=400, totp_error=error)
    await auth.disable_totp(web.manager, actor(session), actor=actor(session))
    return redirect("/account?done=totp-disabled")


@router.post("/account/tokens", response_class=HTMLResponse)
async def token_create(
    request: Request, web: WebDep, session: SessionDep, name: Annotated[str, Form()] = ""
) -> Response:
    try:
        token = await auth.create_api_token(web.manager, actor(session), name.strip())
    except ClustermgrError as exc:
        return await _account(
            web, request, session, status=error_status(exc), token_error=exc, token_name=name
        )
    return await _account(web, request, session, status=201, new_token=token, token_name=name)


@router.post("/account/tokens/revoke")
async def token_revoke(
    web: WebDep, session: SessionDep, name: Annotated[str, Form()] = ""
) -> Response:
    await auth.revoke_api_token(web.manager, actor(session), name, actor=actor(session))
    return redirect("/account?done=token-revoked")
