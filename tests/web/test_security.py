"""The issue's "Done when" for security: every route guarded, CSRF, throttling, cookies, no leaks.

The route tables are built from ``app.routes`` at test time, so a route added
later without protection fails here without anyone editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import update
from starlette.routing import Mount

from clustermgr.auth import service as auth
from clustermgr.auth.models import LoginFailure
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.settings import Settings
from clustermgr.web.app import create_app
from clustermgr.web.security import CSRF_HEADER, LOGIN_CSRF_COOKIE, SAFE_METHODS, SESSION_COOKIE
from labfixture import Lab
from webfixture import (
    ADMIN_PASSWORD,
    ENDLESS_STREAMS,
    BodyLog,
    FreshWeb,
    WebUser,
    client,
    hidden_csrf,
    session_csrf,
    sign_in,
    wait_for_job,
)

pytestmark = pytest.mark.integration

#: The only routes a visitor without a session or token may use.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),  # without a session it only redirects to /login
    ("GET", "/setup"),
    ("POST", "/setup"),
}
PUBLIC_MOUNTS = {"/static"}
#: Outside the API, read by machines with an API token: a plain 401 without one.
TOKEN_ONLY = {("GET", "/metrics")}
#: Forms protected by the double-submit login cookie instead of a session.
SESSIONLESS_FORMS = {"/login", "/setup"}
_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as declared, e.g. /jobs/{job_id}

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    def url(self, values: dict[str, str] | None = None) -> str:
        """The path with its parameters filled: ``values`` by name, else a dummy."""
        return _PARAM.sub(lambda m: (values or {}).get(m.group(1), "1"), self.path)


def routes(app: FastAPI) -> Iterator[Route]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            continue
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                yield Route(method, str(context.path))


def mounts(app: FastAPI) -> list[str]:
    return [
        str(c.path) for c in iter_route_contexts(app.routes) if isinstance(c.original_route, Mount)
    ]


def test_the_route_table_is_what_the_tests_expect(web_app: FastAPI) -> None:
    table = set(routes(web_app))
    assert {Route(m, p) for m, p in PUBLIC} <= table, "a public route is gone: update PUBLIC"
    assert any(r.api for r in table) and any(not r.api for r in table)
    assert set(mounts(web_app)) == PUBLIC_MOUNTS, "a new mount: guard it and list it here"


async def test_every_route_but_the_public_ones_needs_a_session_or_token(
    web_app: FastAPI, anon: httpx.AsyncClient
) -> None:
    unguarded = []
    for route in routes(web_app):
        if (route.method, route.path) in PUBLIC:
            continue
        answer = await anon.request(route.method, route.url())
        if route.api:
            ok = answer.status_code == 401 and answer.json()["error"] == "not_authenticated"
        elif (route.method, route.path) in TOKEN_ONLY:
            ok = answer.status_code == 401
        else:
            ok = answer.status_code == 303 and answer.headers["location"].startswith("/login")
        if not ok:
            unguarded.append(f"{route.method} {route.path}: {answer.status_code}")
    assert unguarded == []


async def test_anonymous_api_calls_get_401_before_their_body_is_judged(
    web_app: FastAPI, anon: httpx.AsyncClient
) -> None:
    for route in routes(web_app):
        if route.api and route.method in ("POST", "PUT", "PATCH"):
            answer = await anon.request(
                route.method,
                route.url(),
                content=b"{not json",
                headers={"content-type": "application/json"},
            )
            assert answer.status_code == 401, f"{route.method} {route.path}"


async def test_public_routes_answer_without_a_session(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/login")).status_code == 200
    assert (await anon.get("/setup")).status_code == 200
    logout = await anon.post("/logout")
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    assert (await anon.get("/static/app.css")).status_code == 200
    assert (await anon.get("/api/v1/openapi.json")).status_code == 401


async def test_state_changing_pages_refuse_a_form_without_the_csrf_token(
    web_app: FastAPI, gui: httpx.AsyncClient
) -> None:
    accepted = []
    changing = [
        r
        for r in routes(web_app)
        if not r.api and r.method not in SAFE_METHODS and r.path not in SESSIONLESS_FORMS
    ]
    assert changing, "no state-changing page route found"
    for route in changing:
        for extra in ({}, {CSRF_HEADER: "forged"}):
            answer = await gui.request(
                route.method, route.url(), data={"name": "x", "csrf_token": ""}, headers=extra
            )
            if answer.status_code != 403:
                accepted.append(f"{route.method} {route.path} {extra}: {answer.status_code}")
    assert accepted == []
    # The session survived all that: it was never signed out by a forged request.
    assert (await gui.get("/")).status_code == 200


async def test_the_right_csrf_token_is_accepted(gui: httpx.AsyncClient) -> None:
    token = await session_csrf(gui)
    answer = await gui.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert (await gui.get("/")).status_code == 303, "signed out"


async def test_sign_in_forms_need_their_cookie_token(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/login")
    form = {"username": "admin", "password": ADMIN_PASSWORD}
    missing = await anon.post("/login", data=form)
    assert missing.status_code == 403
    anon.cookies.delete(LOGIN_CSRF_COOKIE)
    no_cookie = await anon.post("/login", data={**form, "csrf_token": hidden_csrf(page.text)})
    assert no_cookie.status_code == 403
    assert SESSION_COOKIE not in no_cookie.cookies


async def _failures_just_now(settings: Settings) -> None:
    """Date every recorded login failure now: however slow the machine, no wait has passed."""
    manager = await Manager.open(settings)
    try:
        async with manager.db.session() as session:
            await session.execute(update(LoginFailure).values(at=utcnow()))
    finally:
        await manager.close()


async def test_failed_logins_are_throttled(fresh_web: FreshWeb) -> None:
    async with client(app=fresh_web.app, client_address="192.0.2.7") as http:
        admin = fresh_web.admin
        for _ in range(auth.FREE_FAILURES):
            answer = await sign_in(http, admin.username, "Wrong-password-123", expect_success=False)
            assert answer.status_code == 401 and "retry-after" not in answer.headers
        await _failures_just_now(fresh_web.settings)
        early = await sign_in(http, admin.username, "Wrong-password-123", expect_success=False)
        assert early.status_code == 429 and early.headers["retry-after"] == "1"
        # Throttled means throttled: even the right password is not looked at.
        right = await sign_in(http, admin.username, admin.password, expect_success=False)
        assert right.status_code == 429
        assert SESSION_COOKIE not in right.cookies


async def test_an_address_that_signed_in_before_is_not_throttled(fresh_web: FreshWeb) -> None:
    admin = fresh_web.admin
    async with client(app=fresh_web.app, client_address="192.0.2.8") as owner:
        await sign_in(owner, admin.username, admin.password)
    for n in range(auth.FREE_FAILURES + 2):
        async with client(app=fresh_web.app, client_address=f"203.0.113.{n}") as guesser:
            await sign_in(guesser, admin.username, "Wrong-password-123", expect_success=False)
    await _failures_just_now(fresh_web.settings)
    async with client(app=fresh_web.app, client_address="203.0.113.99") as stranger:
        refused = await sign_in(stranger, admin.username, admin.password, expect_success=False)
        assert refused.status_code == 429
    async with client(app=fresh_web.app, client_address="192.0.2.8") as owner:
        await sign_in(owner, admin.username, admin.password)


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/jobs?cluster=lab", "/jobs?cluster=lab"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
async def test_sign_in_only_returns_to_a_local_page(
    fresh_web: FreshWeb, target: str, landing: str
) -> None:
    async with client(app=fresh_web.app) as http:
        answer = await sign_in(
            http, fresh_web.admin.username, fresh_web.admin.password, next_path=target
        )
    assert answer.headers["location"] == landing


def cookie_attributes(answer: httpx.Response, name: str) -> set[str]:
    for header in answer.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set: {answer.headers.get_list('set-cookie')}")


async def test_the_session_cookie_is_httponly_and_strict(fresh_web: FreshWeb) -> None:
    async with client(app=fresh_web.app) as http:
        answer = await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
    attributes = cookie_attributes(answer, SESSION_COOKIE)
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes


async def test_cookies_are_secure_when_served_over_tls(fresh_web: FreshWeb) -> None:
    app = create_app(fresh_web.settings, secure_cookies=True)
    async with app.router.lifespan_context(app), client("https://localhost", app=app) as http:
        login = await http.get("/login")
        assert "secure" in cookie_attributes(login, LOGIN_CSRF_COOKIE)
        answer = await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
    assert {"httponly", "samesite=strict", "secure"} <= cookie_attributes(answer, SESSION_COOKIE)


async def test_security_headers_on_pages_and_api(
    gui: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    for answer in (await gui.get("/"), await api.get("/api/v1/me")):
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"


async def _job_id(api: httpx.AsyncClient) -> str:
    jobs = (await api.get("/api/v1/jobs", params={"limit": 100})).json()["items"]
    finished = [j for j in jobs if j["state"] not in ("queued", "running")]
    if finished:
        return str(finished[0]["id"])
    started = (await api.post("/api/v1/jobs", json={"kind": "plan", "cluster": "lab"})).json()
    await wait_for_job(api, started["id"])
    return str(started["id"])


async def test_no_response_ever_holds_a_secret(
    web_app: FastAPI,
    lab: Lab,
    api: httpx.AsyncClient,
    gui: httpx.AsyncClient,
    body_log: BodyLog,
    secrets_to_hide: dict[str, str],
    web_admin: WebUser,
) -> None:
    """Every GET page and API route with real values, plus every body fetched so far.

    Runs last in this module; the log holds what earlier tests of the session
    fetched through the shared clients too.
    """
    idp1 = lab.host("idp1")
    values: dict[str, Any] = {
        "cluster": "lab",
        "name": "lab",
        "hostname": idp1.fqdn,
        "job_id": await _job_id(api),
    }
    for route in routes(web_app):
        if route.method != "GET" or route.path in ENDLESS_STREAMS:
            continue
        http = api if route.api else gui
        answer = await http.get(route.url(values))
        assert answer.status_code < 500, f"{route.path}: {answer.status_code}"
    bodies = list(body_log.bodies())
    assert len(bodies) > 20
    assert body_log.leaks(secrets_to_hide) == []
