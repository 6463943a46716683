"""Request bodies are refused over their limit, and API tokens checked, before a body is read.

The app is driven over raw ASGI with a body source that counts what the app
takes from it: "not read" is measured, not assumed.  Also here: the Host
allow-list and HSTS, the other checks in front of the app.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from clustermgr.settings import Settings
from clustermgr.web.limits import KEY_UPLOAD_ALLOWANCE, MAX_BODY
from webfixture import FreshWeb, client, running_app

pytestmark = pytest.mark.integration

CHUNK = b"x" * 65536
FIFTY_MB = 50 * 1024 * 1024


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Body bytes the app took from the client.
    consumed: int = 0


async def send_body(
    app: FastAPI,
    path: str,
    size: int,
    *,
    declare_length: bool = True,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST ``size`` bytes to ``path`` over raw ASGI, in 64 KiB chunks; count what is read."""
    answer = Answer()
    remaining = size
    raw = [(b"host", b"localhost"), (b"content-type", b"application/json")]
    if declare_length:
        raw.append((b"content-length", str(size).encode()))
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]

    async def receive() -> Message:
        nonlocal remaining
        if remaining <= 0:
            return {"type": "http.disconnect"}
        chunk = CHUNK[: min(len(CHUNK), remaining)]
        remaining -= len(chunk)
        answer.consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": remaining > 0}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("192.0.2.20", 50000),
        "server": ("localhost", 80),
    }
    await app(scope, receive, send)
    return answer


def bearer(fresh_web: FreshWeb) -> dict[str, str]:
    return fresh_web.admin.auth_header


@pytest.mark.parametrize("declare_length", [True, False])
async def test_fifty_megabytes_from_a_stranger_are_refused_unread(
    fresh_web: FreshWeb, declare_length: bool
) -> None:
    started = time.monotonic()
    answer = await send_body(fresh_web.app, "/api/v1/jobs", FIFTY_MB, declare_length=declare_length)
    assert answer.status in (401, 413), answer.body[:300]
    assert answer.consumed == 0, "the body was read before the request was refused"
    assert time.monotonic() - started < 5
    assert json.loads(answer.body)["error"] in ("not_authenticated", "body_too_large")


async def test_an_anonymous_api_request_is_refused_before_its_body_is_read(
    fresh_web: FreshWeb,
) -> None:
    answer = await send_body(fresh_web.app, "/api/v1/jobs", 4096)
    assert answer.status == 401 and answer.consumed == 0
    wrong = await send_body(
        fresh_web.app, "/api/v1/jobs", 4096, headers={"Authorization": "Bearer not-a-token"}
    )
    assert wrong.status == 401 and wrong.consumed == 0


async def test_an_oversized_declared_body_is_refused_even_with_a_token(
    fresh_web: FreshWeb,
) -> None:
    answer = await send_body(fresh_web.app, "/api/v1/jobs", FIFTY_MB, headers=bearer(fresh_web))
    assert answer.status == 413 and answer.consumed == 0
    body = json.loads(answer.body)
    assert body["error"] == "body_too_large" and str(MAX_BODY) in body["message"]


async def test_an_oversized_streamed_body_is_cut_off_at_the_limit(fresh_web: FreshWeb) -> None:
    answer = await send_body(
        fresh_web.app,
        "/api/v1/jobs",
        FIFTY_MB,
        declare_length=False,
        headers=bearer(fresh_web),
    )
    assert answer.status == 413, answer.body[:300]
    assert json.loads(answer.body)["error"] == "body_too_large"
    assert answer.consumed <= MAX_BODY + len(CHUNK), "read on past the limit"


async def test_a_body_within_the_limit_reaches_the_route(fresh_web: FreshWeb) -> None:
    answer = await send_body(fresh_web.app, "/api/v1/jobs", MAX_BODY, headers=bearer(fresh_web))
    assert answer.status == 422, "read and validated (not JSON), not refused for its size"
    assert answer.consumed == MAX_BODY


async def test_the_server_add_form_may_carry_a_key_file_more(fresh_web: FreshWeb) -> None:
    size = MAX_BODY + KEY_UPLOAD_ALLOWANCE // 2
    form = await send_body(fresh_web.app, "/servers/add", size)
    assert form.status != 413
    assert (await send_body(fresh_web.app, "/login", size)).status == 413
    over = await send_body(fresh_web.app, "/servers/add", MAX_BODY + KEY_UPLOAD_ALLOWANCE + 1)
    assert over.status == 413 and over.consumed == 0


async def test_a_malformed_content_length_is_refused(fresh_web: FreshWeb) -> None:
    answer = await send_body(
        fresh_web.app, "/api/v1/jobs", 10, headers={"Content-Length": "10"}
    )  # two Content-Length headers
    assert answer.status == 400 and answer.consumed == 0


# --- Host allow-list, HSTS ----------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000"])
async def test_local_host_names_are_answered(fresh_web: FreshWeb, host: str) -> None:
    async with client(app=fresh_web.app) as http:
        answer = await http.get("/login", headers={"Host": host})
    assert answer.status_code == 200


async def test_a_foreign_host_name_is_refused(fresh_web: FreshWeb) -> None:
    async with client(app=fresh_web.app) as http:
        answer = await http.get("/login", headers={"Host": "attacker.example"})
    assert answer.status_code == 400


async def test_configured_host_names_are_answered(fresh_web: FreshWeb) -> None:
    settings = Settings(data_dir=fresh_web.settings.data_dir, allowed_hosts=["manager.example.org"])
    async with running_app(settings) as app, client(app=app) as http:
        named = await http.get("/login", headers={"Host": "manager.example.org"})
        other = await http.get("/login", headers={"Host": "attacker.example"})
    assert (named.status_code, other.status_code) == (200, 400)


async def test_hsts_is_sent_over_tls_only(fresh_web: FreshWeb) -> None:
    async with client("https://localhost", app=fresh_web.app) as https:
        secure = await https.get("/login")
    async with client(app=fresh_web.app) as http:
        plain = await http.get("/login")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in plain.headers


async def test_refusals_carry_the_security_headers(fresh_web: FreshWeb) -> None:
    answer = await send_body(fresh_web.app, "/api/v1/jobs", FIFTY_MB)
    assert answer.headers.get("x-frame-options") == "DENY"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fresh_web.app), base_url="http://localhost"
    ) as http:
        assert (await http.post("/api/v1/jobs", json={})).status_code == 401
