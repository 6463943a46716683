"""/api/v1/notify/channels on the real app (its lifespan running the watcher and the
dispatcher), against a local HTTP receiver and SMTP relay on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.settings import Settings
from polling import eventually
from receivers import PASSWORD, USER, http_receiver, smtp_relay
from webfixture import BodyLog, client, create_user, free_port, running_app

DOWN = Finding("node-down:idp2.example.org", Severity.CRITICAL, "idp2: slapd does not answer")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, str]]:
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=True)
    admin = await create_user(settings)
    async with running_app(settings) as running:
        yield running, admin.token


async def test_the_embedded_dispatcher_sends_an_alert_to_a_channel_added_by_the_api(
    app: tuple[FastAPI, str],
) -> None:
    running, token = app
    manager: Manager = running.state.web.manager
    with http_receiver() as receiver:
        async with client(app=running, token=token) as http:
            body = {
                "name": "ops-hook",
                "min_severity": "critical",
                "webhook": {"url": receiver.url},
            }
            answer = await http.post("/api/v1/notify/channels", json=body)
            assert answer.status_code == 201, answer.text
            assert answer.json()["state"] == "ok" and answer.json()["kind"] == "webhook"

            await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN]))
            await eventually(
                lambda: list(receiver.bodies),
                until=bool,
                timeout=10,
                interval=0.1,
                what="the dispatcher never sent the alert",
            )
            (sent,) = receiver.bodies
            assert sent["event"] == "opened" and sent["cluster"] == "prod"

            answer = await http.post("/api/v1/notify/channels/ops-hook/test")
            assert answer.status_code == 200 and answer.json() == {
                "channel": "ops-hook",
                "sent": True,
            }
            assert receiver.bodies[-1]["event"] == "test"

            listed = (await http.get("/api/v1/notify/channels")).json()
            assert [(c["name"], c["state"], c["pending"]) for c in listed] == [
                ("ops-hook", "ok", 0)
            ]


async def test_channels_change_and_fail_in_words_without_showing_the_password(
    app: tuple[FastAPI, str], tmp_path: Path
) -> None:
    running, token = app
    log = BodyLog()
    with smtp_relay(tmp_path, free_port()) as relay:
        email = {
            "host": "127.0.0.1",
            "port": relay.port,
            "ca_file": str(relay.ca_file),
            "username": USER,
            "sender": "clustermgr@example.org",
            "recipients": ["ops@example.org"],
        }
        async with client(app=running, token=token, log=log) as http:
            body = {"name": "ops-mail", "email": email, "password": PASSWORD}
            answer = await http.post("/api/v1/notify/channels", json=body)
            assert answer.status_code == 201, answer.text
            assert answer.json()["has_password"] is True
            assert (await http.post("/api/v1/notify/channels/ops-mail/test")).status_code == 200
            assert len(relay.messages) == 1

            changed = {"name": "ops-mail", "min_severity": "info", "email": email}
            answer = await http.put("/api/v1/notify/channels/ops-mail", json=changed)
            assert answer.status_code == 200 and answer.json()["min_severity"] == "info"
            assert answer.json()["has_password"] is True  # kept

            wrong = {**body, "password": "not-the-password-42"}
            assert (
                await http.put("/api/v1/notify/channels/ops-mail", json=wrong)
            ).status_code == 200
            answer = await http.post("/api/v1/notify/channels/ops-mail/test")
            assert answer.status_code == 502
            assert answer.json()["error"] == "delivery_failed"
            assert "authentication failed" in answer.json()["message"]

            refused = await http.post("/api/v1/notify/channels", json={**body, "name": "Bad Name"})
            assert refused.status_code == 400 and "name" in refused.json()["message"]
            refused = await http.post(
                "/api/v1/notify/channels",
                json={"name": "h", "webhook": {"url": "ftp://x.example.org"}},
            )
            assert refused.status_code == 422
            both = {"name": "h", "email": email, "webhook": {"url": "http://127.0.0.1:9/h"}}
            assert (await http.post("/api/v1/notify/channels", json=both)).status_code == 400
            taken = await http.post("/api/v1/notify/channels", json=body)
            assert taken.status_code == 409

            answer = await http.post("/api/v1/notify/channels/ops-mail/disable")
            assert answer.json()["state"] == "disabled"
            assert (await http.delete("/api/v1/notify/channels/ops-mail")).status_code == 204
            assert (await http.get("/api/v1/notify/channels/ops-mail")).status_code == 404
    assert log.leaks({"password": PASSWORD, "wrong": "not-the-password-42"}) == []


async def test_a_closed_port_answers_connection_refused(app: tuple[FastAPI, str]) -> None:
    running, token = app
    async with client(app=running, token=token) as http:
        url = f"http://127.0.0.1:{free_port()}/hook"
        await http.post("/api/v1/notify/channels", json={"name": "gone", "webhook": {"url": url}})
        answer: httpx.Response = await http.post("/api/v1/notify/channels/gone/test")
    assert answer.status_code == 502 and "connection refused" in answer.json()["message"]
