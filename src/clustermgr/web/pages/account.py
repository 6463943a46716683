"""The signed-in user's account: password, two-factor authentication (TOTP), API tokens.

Enrolling takes two posts: the first makes a secret and shows it (as the
``otpauth://`` URI and as text for manual entry); the second carries the
secret back in a hidden field with a code from the app, and only then is it
stored.  A new API token is shown once, on the page that created it.
Creating a token, turning TOTP off and changing the password ask for the
password (and a TOTP code when enrolled) again.  The auth service writes the
audit entries of all these changes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.auth import service as auth
from clustermgr.auth.roles import UserRole
from clustermgr.auth.totp import totp_uri
from clustermgr.auth.views import SessionView
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.redact import Secret
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import actor, error_status, parse_int, redirect, render, role
from clustermgr.web.security import client_address

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
    context = {
        "account": session.user,
        "tokens": tokens,
        "token_roles": [r for r in UserRole if role(session).allows(r)],
        "token_days": auth.DEFAULT_TOKEN_DAYS,
        "max_token_days": auth.MAX_TOKEN_DAYS,
        **extra,
    }
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


Password = Annotated[str, Form()]
Code = Annotated[str, Form()]


def _secret(password: str) -> Secret:
    return Secret(password, label="password")


@router.post("/account/totp/disable", response_class=HTMLResponse)
async def totp_disable(
    request: Request,
    web: WebDep,
    session: SessionDep,
    confirm: Annotated[str, Form()] = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    if confirm != "yes":
        error = InvalidInput("not confirmed", hint="tick the box to turn two-factor off")
        return await _account(web, request, session, status=400, totp_error=error)
    try:
        await auth.disable_own_totp(
            web.manager,
            actor(session),
            _secret(password),
            totp_code=code.strip(),
            client=client_address(request),
        )
    except ClustermgrError as exc:
        return await _account(web, request, session, status=error_status(exc), totp_error=exc)
    return redirect("/account?done=totp-disabled")


@router.post("/account/password", response_class=HTMLResponse)
async def password_change(
    request: Request,
    web: WebDep,
    session: SessionDep,
    current: Password = "",
    new: Password = "",
    repeat: Password = "",
    code: Code = "",
) -> Response:
    """Change the password; every session of the user ends, this browser signs in anew."""
    try:
        if new != repeat:
            raise InvalidInput("the new passwords differ", hint="type the same password twice")
        await auth.change_password(
            web.manager,
            actor(session),
            _secret(current),
            _secret(new),
            totp_code=code.strip(),
            client=client_address(request),
        )
    except ClustermgrError as exc:
        return await _account(web, request, session, status=error_status(exc), password_error=exc)
    return redirect("/login?next=/account")


@router.post("/account/tokens", response_class=HTMLResponse)
async def token_create(
    request: Request,
    web: WebDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    token_role: Annotated[str, Form(alias="role")] = "",
    days: Annotated[str, Form()] = "",
    password: Password = "",
    code: Code = "",
) -> Response:
    try:
        token = await auth.create_own_token(
            web.manager,
            actor(session),
            name.strip(),
            _secret(password),
            totp_code=code.strip(),
            client=client_address(request),
            role=UserRole.parse(token_role) if token_role.strip() else None,
            days=parse_int(days, "number of days") if days.strip() else auth.DEFAULT_TOKEN_DAYS,
        )
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
