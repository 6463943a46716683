"""One exception handler: every domain error gets one shape, HTML or JSON.

API paths answer ``{"error", "message", "hint"}`` with a status from
:data:`STATUS`; pages render the error page, and a missing session redirects
to the login page.  Messages are already redacted by the error classes.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from clustermgr import errors
from clustermgr.web.context import WebContext
from clustermgr.web.deps import api_user, bearer

API_PREFIX = "/api/"

STATUS: list[tuple[type[errors.ClustermgrError], int]] = [
    (errors.NotAuthenticated, 401),
    (errors.CsrfRejected, 403),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.AlreadyExists, 409),
    (errors.JobConflict, 409),
    (errors.LimitReached, 429),
    (errors.HostKeyUnknown, 409),
    (errors.HostKeyChanged, 409),
    (errors.HostKeyMismatch, 409),
    (errors.DatabaseError, 503),
    (errors.SeriesStoreUnavailable, 503),
    (errors.RemoteError, 502),
    (errors.InvalidInput, 400),
]
STATUS_BY_CODE = {
    "login_failed": 401,
    "totp_required": 401,
    "login_throttled": 429,
    "setup_closed": 403,
}


def status_for(exc: errors.ClustermgrError) -> int:
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def body_of(exc: errors.ClustermgrError) -> dict[str, object]:
    """The JSON shape of an error; host-key errors add what a client needs to confirm."""
    body: dict[str, object] = dict(exc.as_dict())
    if isinstance(exc, errors.HostKeyUnknown):
        body.update(fingerprint=exc.fingerprint, algorithm=exc.algorithm)
    elif isinstance(exc, errors.HostKeyChanged):
        body.update(pinned=exc.pinned, presented=exc.presented, algorithm=exc.algorithm)
    elif isinstance(exc, errors.HostKeyMismatch):
        body.update(presented=exc.presented, algorithm=exc.algorithm)
    return body


async def handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ClustermgrError)
    status = status_for(exc)
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(body_of(exc), status_code=status, headers=headers)
    if isinstance(exc, errors.NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return _page(request, exc, status, headers)


class RequestInvalid(errors.InvalidInput):
    """A request that does not match the route's schema (FastAPI's validation)."""

    code = "invalid_request"


class HttpError(errors.ClustermgrError):
    """Starlette's own answers (no such route, method not allowed) in our shape."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            status, "http_error"
        )
        super().__init__(message)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def handle_validation(request: Request, exc: Exception) -> Response:
    """422 in the one shape; the offending input is never echoed (it may be a secret)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors()
    ]
    error = RequestInvalid(
        "the request is invalid: " + "; ".join(problems[:10]),
        hint="see the API description at /api/v1/openapi.json",
    )
    if request.url.path.startswith(API_PREFIX):
        # FastAPI reads the body before it runs the route's guard: answer an
        # anonymous caller as the guard would, not with details of the route.
        try:
            await api_user(request, request.app.state.web, await bearer(request))
        except errors.NotAuthenticated as refused:
            return await handle(request, refused)
        return JSONResponse(error.as_dict(), status_code=422)
    return _page(request, error, 422, {})


async def handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = HttpError(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(error.as_dict(), status_code=exc.status_code, headers=headers)
    return _page(request, error, exc.status_code, headers)


def _page(
    request: Request, error: errors.ClustermgrError, status: int, headers: dict[str, str]
) -> Response:
    web: WebContext = request.app.state.web
    return web.templates.TemplateResponse(
        request,
        "error.html",
        {"error": error, "status": status},
        status_code=status,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.ClustermgrError, handle)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(HTTPException, handle_http)
