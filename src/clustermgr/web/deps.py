"""Typed dependencies: the web context, the signed-in user (GUI), the token user (API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clustermgr.auth import service as auth
from clustermgr.auth.views import SessionView, UserView
from clustermgr.errors import CsrfRejected, NotAuthenticated
from clustermgr.web.context import WebContext
from clustermgr.web.security import SAFE_METHODS, SESSION_COOKIE, same, submitted_csrf


async def web_context(request: Request) -> WebContext:
    """Async, as every dependency here: FastAPI runs a plain function on a worker thread,
    a hop per request for one attribute read."""
    context: WebContext = request.app.state.web
    return context


WebDep = Annotated[WebContext, Depends(web_context)]


async def current_session(request: Request, web: WebDep) -> SessionView:
    """The GUI's guard: a live session, and its CSRF token on every change."""
    token = request.cookies.get(SESSION_COOKIE)
    session = await auth.session_for(web.manager, token) if token else None
    if session is None:
        raise NotAuthenticated("sign in first")
    if request.method not in SAFE_METHODS and not same(
        await submitted_csrf(request), session.csrf_token
    ):
        raise CsrfRejected("the form is missing its security token; reload the page and retry")
    request.state.session = session
    return session


SessionDep = Annotated[SessionView, Depends(current_session)]


#: Where the request's state keeps the user of its checked API token.
API_USER = "api_user"

#: Declares the scheme in the OpenAPI spec; the check itself is :func:`api_user`'s.
bearer = HTTPBearer(
    auto_error=False,
    description="An API token: `clustermgr admin token USER --name NAME`.",
)


async def token_user(web: WebContext, credentials: HTTPAuthorizationCredentials | None) -> UserView:
    """The user of a bearer token: one indexed query; NotAuthenticated without a valid one."""
    user = None
    if credentials is not None and credentials.credentials:
        user = await auth.user_for_token(web.manager, credentials.credentials.strip())
    if user is None:
        raise NotAuthenticated(
            "a valid API token is required",
            hint="create one with `clustermgr admin token USER --name NAME`",
        )
    return user


async def reading_session_user(web: WebContext, request: Request) -> UserView | None:
    """The user of a live GUI session asking the API for a read (GET or HEAD), so the
    GUI's charts read the API itself.  Reads change nothing, and the cookie is sent
    same-site only, so another site can neither make the browser change anything with it
    nor read the answer; every other method still needs a token."""
    token = request.cookies.get(SESSION_COOKIE)
    if request.method not in SAFE_METHODS or not token:
        return None
    session = await auth.session_for(web.manager, token)
    return session.user if session is not None else None


async def api_user(
    request: Request,
    web: WebDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserView:
    """The API's guard: ``Authorization: Bearer <token>`` (or a GUI session's read).  The
    user the API's middleware found for this request (it checks every API request first),
    or the token's check."""
    checked: UserView | None = getattr(request.state, API_USER, None)
    return checked if checked is not None else await token_user(web, credentials)


ApiUser = Annotated[UserView, Depends(api_user)]
