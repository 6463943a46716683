"""The dispatcher against real receivers on 127.0.0.1: an SMTP relay (aiosmtpd) that
requires STARTTLS and a login, and an HTTP receiver.  What the messages say, retries
with back-off (sent exactly once), the failing state, the test send's errors in words,
and a hanging receiver that does not slow the watcher's recording."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import DeliveryFailed
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.notify import service
from clustermgr.notify.channels import (
    ChannelSpec,
    ChannelView,
    EmailSettings,
    Level,
    WebhookSettings,
)
from clustermgr.notify.dispatcher import BackgroundDispatch, Dispatcher
from clustermgr.notify.models import Channel, OutboxRow
from clustermgr.redact import Secret
from polling import eventually
from receivers import PASSWORD, USER, Relay, http_receiver, smtp_relay
from webfixture import free_port

DOWN = Finding("node-down:idp2.example.org", Severity.CRITICAL, "idp2: slapd does not answer")


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    with smtp_relay(tmp_path, free_port()) as running:
        yield running


def email(relay: Relay, **changes: object) -> EmailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": relay.port,
        "ca_file": str(relay.ca_file),
        "username": USER,
        "sender": "clustermgr@example.org",
        "recipients": ["ops@example.org", "oncall@example.org"],
    }
    return EmailSettings.model_validate({**values, **changes})


async def add_email(
    manager: Manager, relay: Relay, password: str = PASSWORD, **changes: object
) -> None:
    await service.add_channel(
        manager,
        ChannelSpec(name="mail", min_severity=Level.WARNING),
        email(relay, **changes),
        password=Secret(password, label="t"),
    )


async def add_hook(manager: Manager, url: str) -> None:
    await service.add_channel(manager, ChannelSpec(name="hook"), WebhookSettings(url=url))


async def state(manager: Manager, name: str) -> ChannelView:
    return await service.get_channel(manager, name)


async def test_email_over_starttls_with_a_login_when_an_alert_opens_and_resolves(
    manager: Manager, relay: Relay
) -> None:
    await add_email(manager, relay)
    async with manager.db.session() as session:
        sealed = await session.scalar(select(Channel.ciphertext))
    assert sealed is not None and PASSWORD.encode() not in sealed
    assert PASSWORD not in str((await state(manager, "mail")).as_dict())

    dispatcher = Dispatcher(manager)
    await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN]))
    assert await dispatcher.once() == 1
    await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}))
    assert await dispatcher.once() == 1
    assert await dispatcher.once() == 0

    opened, resolved = relay.messages
    assert (
        str(opened["Subject"]).strip().startswith("OPENED [critical] prod/ldap on idp2.example.org")
    )
    body = opened.get_content()
    assert "cluster: prod" in body and "host: idp2.example.org" in body
    assert "severity: critical" in body and DOWN.message in body
    assert (
        str(resolved["Subject"])
        .strip()
        .startswith("RESOLVED [critical] prod/ldap on idp2.example.org")
    )
    assert relay.envelopes[0] == (
        "clustermgr@example.org",
        ["ops@example.org", "oncall@example.org"],
    )
    assert (await state(manager, "mail")).state == "ok"


async def test_webhook_gets_slack_text_and_fields(manager: Manager) -> None:
    with http_receiver() as receiver:
        await add_hook(manager, receiver.url)
        await store.record_cycle(manager, Cycle("prod", "cache", utcnow(), {}, findings=[DOWN]))
        assert await Dispatcher(manager).once() == 1
    (body,) = receiver.bodies
    assert body["text"] == f"OPENED [critical] prod/cache on idp2.example.org: {DOWN.message}"
    assert body["cluster"] == "prod" and body["component"] == "cache"
    assert body["host"] == "idp2.example.org" and body["severity"] == "critical"
    assert body["message"] == DOWN.message and body["event"] == "opened"
    assert body["opened_at"] and body["resolved_at"] is None


async def test_a_failing_receiver_is_retried_with_back_off_and_gets_it_once(
    manager: Manager,
) -> None:
    with http_receiver(fail_first=2) as receiver:
        await add_hook(manager, receiver.url)
        await store.record_cycle(manager, Cycle("prod", "lb", utcnow(), {}, findings=[DOWN]))
        dispatcher = Dispatcher(manager)
        started = utcnow()
        assert await dispatcher.once() == 0
        failing = await state(manager, "hook")
        assert failing.state == "failing" and failing.failing_since is not None
        assert "HTTP 500" in failing.last_error and failing.pending == 1
        async with manager.db.session() as session:
            row = await session.scalar(select(OutboxRow))
            assert row is not None and row.attempts == 1
            first_wait = (row.due_at - started).total_seconds()
        assert 4 <= first_wait <= 6  # the first back-off: 5 s
        assert await dispatcher.once() == 0  # not due yet: nothing is sent

        async def due_now() -> None:
            async with manager.db.session() as session:
                await session.execute(update(OutboxRow).values(due_at=utcnow()))

        await due_now()
        assert await dispatcher.once() == 0  # the second failure
        async with manager.db.session() as session:
            row = await session.scalar(select(OutboxRow))
            assert row is not None and row.attempts == 2
            assert (row.due_at - utcnow()).total_seconds() > 8  # doubled: 10 s
        await due_now()
        assert await dispatcher.once() == 1
        assert await dispatcher.once() == 0
    assert receiver.requests == 3 and len(receiver.bodies) == 1
    healthy = await state(manager, "hook")
    assert healthy.state == "ok" and healthy.last_error == "" and healthy.pending == 0


async def test_a_hanging_receiver_does_not_slow_the_watcher(manager: Manager) -> None:
    manager.settings = manager.settings.model_copy(update={"notify_timeout": 3.0})
    with http_receiver(hang=2.5) as receiver:
        await add_hook(manager, receiver.url)
        await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN]))
        dispatch = BackgroundDispatch(manager)
        try:
            await eventually(
                lambda: receiver.arrived,
                until=bool,
                timeout=5,
                interval=0.05,
                what="the dispatcher never reached the receiver",
            )
            for _ in range(3):  # while the receiver hangs on the message
                started = time.monotonic()
                await store.record_cycle(
                    manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN])
                )
                assert time.monotonic() - started < 0.5
            assert not receiver.bodies  # still hanging: the cycles did not wait for it
        finally:
            await dispatch.stop()
    assert len(receiver.bodies) == 1


async def test_send_a_test_reports_each_failure_in_words(manager: Manager, relay: Relay) -> None:
    await add_email(manager, relay)
    await service.test_channel(manager, "mail")
    assert "test message" in str(relay.messages[-1]["Subject"])

    await service.update_channel(
        manager,
        "mail",
        ChannelSpec(name="mail"),
        email(relay),
        password=Secret("wrong-password-123", label="t"),
    )
    with pytest.raises(DeliveryFailed, match="authentication failed") as failed:
        await service.test_channel(manager, "mail")
    assert "wrong-password-123" not in str(failed.value) and PASSWORD not in str(failed.value)

    await service.update_channel(
        manager, "mail", ChannelSpec(name="mail"), email(relay, ca_file=None)
    )
    with pytest.raises(DeliveryFailed, match="TLS failure"):
        await service.test_channel(manager, "mail")

    closed = free_port()
    await add_hook(manager, f"http://127.0.0.1:{closed}/hook")
    with pytest.raises(DeliveryFailed, match="connection refused"):
        await service.test_channel(manager, "hook")
    assert (await state(manager, "hook")).state == "ok"  # a test leaves the state alone


async def test_a_disabled_channel_gets_nothing(manager: Manager) -> None:
    with http_receiver() as receiver:
        await add_hook(manager, receiver.url)
        await store.record_cycle(manager, Cycle("prod", "ldap", utcnow(), {}, findings=[DOWN]))
        await service.set_enabled(manager, "hook", False)
        assert await Dispatcher(manager).once() == 0
        assert (await state(manager, "hook")).pending == 0
    assert receiver.bodies == []
