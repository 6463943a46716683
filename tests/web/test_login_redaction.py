"""What a visitor types at sign-in never becomes a value the audit trail hides."""

from __future__ import annotations

import httpx
import pytest

from clustermgr.audit import service as audit
from clustermgr.core.manager import Manager
from clustermgr.redact import redact, registered_count
from clustermgr.web.security import CSRF_FIELD
from webfixture import FreshWeb, client, hidden_csrf, sign_in

pytestmark = pytest.mark.integration

ATTACKER = "192.0.2.7"
ATTEMPTS = 300


def manager_of(fresh_web: FreshWeb) -> Manager:
    return fresh_web.app.state.web.manager  # type: ignore[no-any-return]


async def test_passwords_tried_at_sign_in_do_not_blank_the_audit_trail(
    fresh_web: FreshWeb,
) -> None:
    username = fresh_web.admin.username
    async with client(app=fresh_web.app, client_address=ATTACKER) as http:
        for password in ("admin", "lb.settings", ATTACKER):
            answer = await sign_in(http, username, password, expect_success=False)
            assert answer.status_code == 401
    manager = manager_of(fresh_web)
    failed = [e for e in await audit.entries(manager, actor=username) if e.action == "login"]
    assert [(e.actor, e.action, e.result) for e in failed] == [(username, "login", "failed")] * 3
    assert all(e.detail["client"] == ATTACKER for e in failed)
    await audit.record(manager, actor=username, action="lb.settings", target="lab")
    (latest,) = await audit.entries(manager, limit=1)
    assert (latest.actor, latest.action, latest.target) == (username, "lb.settings", "lab")


async def test_unauthenticated_sign_in_attempts_do_not_grow_the_registry(
    fresh_web: FreshWeb,
) -> None:
    before = registered_count()
    async with client(app=fresh_web.app, client_address=ATTACKER) as http:
        page = await http.get("/login")
        csrf = hidden_csrf(page.text)
        statuses: set[int] = set()
        for n in range(ATTEMPTS):
            form = {"username": "nobody", "password": f"guess-{n:05}", CSRF_FIELD: csrf}
            answer: httpx.Response = await http.post("/login", data=form)
            statuses.add(answer.status_code)
            csrf = hidden_csrf(answer.text)  # each answer is a new form with a new token
    assert statuses <= {401, 429} and statuses
    assert registered_count() == before
    assert redact("guess-00042 guess-09999") == "guess-00042 guess-09999"
