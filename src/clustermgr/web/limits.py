"""What a request must pass before the app reads its body: a size limit, and the API token.

FastAPI reads and parses a body before it runs a route's dependencies, so both
checks are ASGI middleware in front of the app:

- :class:`BodyLimit` answers 413 to a body over :data:`MAX_BODY` (the server
  add form, which carries a key file, may be :data:`KEY_UPLOAD_ALLOWANCE`
  larger).  A ``Content-Length`` over the limit is refused before any byte is
  read; a body without one is counted as it streams in and refused as soon as
  it passes the limit.
- :class:`ApiGuard` checks the bearer token of every API (``/api/``) request and
  answers 401 without reading the body when it is missing or not valid.  A read
  (GET, HEAD) without a token may come from a GUI session instead: the charts
  read the API.  The API router's own guard stays, for the OpenAPI description
  and as a second line.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clustermgr.errors import NotAuthenticated
from clustermgr.web import errors
from clustermgr.web.deps import API_USER, bearer, reading_session_user, token_user

MAX_BODY = 1024 * 1024
#: What the server add form may carry beyond :data:`MAX_BODY`: its key file.
KEY_UPLOAD_ALLOWANCE = 64 * 1024
#: Paths with a limit of their own.
PATH_LIMITS: Mapping[str, int] = {"/servers/add": MAX_BODY + KEY_UPLOAD_ALLOWANCE}


def limit_for(path: str) -> int:
    return PATH_LIMITS.get(path.rstrip("/") or "/", MAX_BODY)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimit:
    """Refuse request bodies over their path's limit with 413, before reading them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is None or declared > limit:
            problem = (
                HTTPException(400, "the Content-Length header is not a number")
                if declared is None
                else _too_large(limit)
            )
            await _answer(scope, receive, send, problem)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as exc:
            # Raised by ``counted`` where no handler of the app caught it.
            if exc.status_code != 413 or started:
                raise
            await _answer(scope, receive, send, exc)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; 0 when not declared; None when not a number."""
    values = [v for k, v in scope["headers"] if k == b"content-length"]
    if not values:
        return 0
    text = values[0].decode("latin-1").strip()
    if len(values) > 1 or not text.isdigit():
        return None
    return int(text)


async def _answer(scope: Scope, receive: Receive, send: Send, exc: HTTPException) -> None:
    """The app's own answer to ``exc`` (JSON for the API, a page for the GUI)."""
    response = await errors.handle_http(Request(scope, receive), exc)
    await response(scope, receive, send)


class ApiGuard:
    """Answer 401 to an API request without a valid token (or, for a read, a live
    session), before its body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(errors.API_PREFIX):
            request = Request(scope, receive)
            web = request.app.state.web
            credentials = await bearer(request)
            try:
                user = (
                    None if credentials else await reading_session_user(web, request)
                ) or await token_user(web, credentials)
            except NotAuthenticated as refused:
                response = await errors.handle(request, refused)
                await response(scope, receive, send)
                return
            # The routes' guard takes this user instead of looking the token up again.
            setattr(request.state, API_USER, user)
        await self.app(scope, receive, send)
