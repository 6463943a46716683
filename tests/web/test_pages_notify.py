"""The notifications pages without a browser: an email channel added by its form (the
password sealed and never sent back), edited, refused with the field named, and audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from clustermgr.audit import service as audit
from clustermgr.core.manager import Manager
from clustermgr.notify import service
from clustermgr.settings import Settings
from webfixture import client, create_user, running_app, session_csrf, sign_in

SMTP_PASSWORD = "form-smtp-Pa55-word"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Manager]]:
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    await create_user(settings)
    async with running_app(settings) as app, client(app=app) as http:
        await sign_in(http)
        yield http, app.state.web.manager


EMAIL = {
    "kind": "email",
    "name": "ops-mail",
    "min_severity": "critical",
    "cluster": "",
    "host": "smtp.example.org",
    "port": "587",
    "starttls": "yes",
    "sender": "clustermgr@example.org",
    "recipients": "ops@example.org, oncall@example.org",
    "username": "alerts@example.org",
    "password": SMTP_PASSWORD,
}


async def test_an_email_channel_by_its_form(http: tuple[httpx.AsyncClient, Manager]) -> None:
    web, manager = http
    csrf = await session_csrf(web, "/notify")
    answer = await web.post("/notify", data={**EMAIL, "csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/notify?done=channel-added"
    (view,) = await service.list_channels(manager)
    assert view.config["recipients"] == ["ops@example.org", "oncall@example.org"]
    assert view.has_password and view.min_severity == "critical" and view.config["starttls"]

    page = await web.get("/notify/ops-mail")
    assert page.status_code == 200
    assert 'value="smtp.example.org"' in page.text and SMTP_PASSWORD not in page.text
    assert "stored; empty keeps it" in page.text

    # Saved without a password: the stored one stays; STARTTLS unticked is off.
    changed = {k: v for k, v in EMAIL.items() if k not in ("password", "starttls")}
    answer = await web.post("/notify/ops-mail", data={**changed, "port": "25", "csrf_token": csrf})
    assert answer.status_code == 303
    view = await service.get_channel(manager, "ops-mail")
    assert view.has_password and view.config["port"] == 25 and not view.config["starttls"]

    bad = {**EMAIL, "name": "other", "recipients": "not an address", "csrf_token": csrf}
    answer = await web.post("/notify", data=bad)
    assert answer.status_code == 400
    assert re.search(r"recipients.*email address", answer.text)
    assert SMTP_PASSWORD not in answer.text
    assert 'value="other"' in answer.text  # what was typed is kept, but the password

    entries = [(e.action, e.target) for e in await audit.entries(manager)]
    assert ("notify.add", "ops-mail") in entries and ("notify.update", "ops-mail") in entries
    assert all(SMTP_PASSWORD not in str(e.detail) for e in await audit.entries(manager))
