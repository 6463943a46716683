"""Cookies, CSRF tokens and security headers: one place for each rule.

- The session cookie holds a random token (the database keeps only its
  SHA-256); HttpOnly, SameSite=Strict, Secure when served over TLS.
- Every state-changing request of the GUI carries the session's CSRF token, in
  the form (``csrf_token``) or, for htmx, in the ``X-CSRF-Token`` header.  The
  login form, which has no session yet, uses a double-submit cookie instead.
- API requests authenticate with a bearer token, so CSRF does not apply to
  them; the API's reads (GET, HEAD: they change nothing) also take the session
  cookie, for the GUI's charts.
- Over TLS, HSTS tells browsers to use HTTPS only; requests must name an
  allowed host (:func:`allowed_hosts`), so a foreign name (DNS rebinding)
  gets 400.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clustermgr.settings import Settings

SESSION_COOKIE = "cm_session"
LOGIN_CSRF_COOKIE = "cm_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
#: Strict-Transport-Security over HTTPS: one year.
HSTS = "max-age=31536000"
#: The names the web app always answers to.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(settings: Settings) -> list[str]:
    """Host header values (without port) the app answers; IPv6 addresses in brackets."""
    return [_host_pattern(h) for h in (*LOCAL_HOSTS, *settings.allowed_hosts)]


def _host_pattern(host: str) -> str:
    host = host.strip().lower()
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/"
    )


async def submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every answer (and HSTS over HTTPS),
    ``Cache-Control: no-store`` on every answer but the files under ``cached_prefix``
    (which say their own caching), unless the answer set them itself."""

    def __init__(self, app: ASGIApp, *, cached_prefix: str) -> None:
        self.app = app
        self.cached = cached_prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        no_store = not str(scope["path"]).startswith(self.cached)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if no_store:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)
