"""``clustermgr notify``: channels from the command line, in a subprocess, against a local
HTTP receiver and SMTP relay (127.0.0.1 only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.audit import service as audit
from clustermgr.core.manager import Manager
from clustermgr.settings import Settings
from receivers import PASSWORD, USER, http_receiver, smtp_relay
from webfixture import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data", SMTP_PW=PASSWORD)


async def test_add_list_test_disable_remove_a_webhook(cli: Cli, tmp_path: Path) -> None:
    with http_receiver() as receiver:
        ran = cli(
            "notify", "add-webhook", "ops-hook", "--url", receiver.url, "--min-severity", "critical"
        )
        assert ran.code == 0, ran.stderr
        assert ran.stdout == f"added webhook channel ops-hook: {receiver.url}\n"

        ran = cli("notify", "test", "ops-hook")
        assert ran.code == 0, ran.stderr
        assert "test message sent through ops-hook" in ran.stdout
        assert "sending a test message" in ran.stderr
        (body,) = receiver.bodies
        assert body["event"] == "test" and "test message" in body["text"]

    ran = cli("notify", "list", "--json")
    assert ran.code == 0, ran.stderr
    (channel,) = ran.json()
    assert (channel["name"], channel["state"], channel["min_severity"]) == (
        "ops-hook",
        "ok",
        "critical",
    )

    ran = cli("notify", "disable", "ops-hook")
    assert ran.code == 0 and ran.stdout == "channel ops-hook is off\n"
    ran = cli("notify", "list")
    head, row = ran.stdout.splitlines()
    assert head.split()[:5] == ["NAME", "KIND", "SEVERITY", "CLUSTER", "STATE"]
    assert row.split()[:5] == ["ops-hook", "webhook", "critical+", "all", "disabled"]

    ran = cli("notify", "test", "ops-hook", "--json")  # the receiver is gone
    assert ran.code == 1
    assert ran.json()["error"] == "delivery_failed"
    assert "connection refused" in ran.json()["message"]

    ran = cli("notify", "remove", "ops-hook")
    assert ran.code == 0, ran.stderr
    assert cli("notify", "list", "--json").json() == []

    manager = await Manager.open(Settings(data_dir=tmp_path / "data"))
    try:
        actions = [(e.action, e.result) for e in await audit.entries(manager)]
    finally:
        await manager.close()
    assert ("notify.add", "ok") in actions and ("notify.test", "failed") in actions
    assert ("notify.disable", "ok") in actions and ("notify.remove", "ok") in actions


def test_an_email_channel_with_a_sealed_password(cli: Cli, tmp_path: Path) -> None:
    with smtp_relay(tmp_path, free_port()) as relay:
        args = ["notify", "add-email", "ops-mail", "--host", "127.0.0.1", "--port", str(relay.port)]
        args += ["--ca-file", str(relay.ca_file), "--username", USER, "--password-env", "SMTP_PW"]
        args += ["--from", "clustermgr@example.org", "--to", "ops@example.org", "--json"]
        ran = cli(*args)
        assert ran.code == 0, ran.stderr
        assert ran.json()["has_password"] is True and PASSWORD not in ran.stdout
        ran = cli("notify", "test", "ops-mail")
        assert ran.code == 0, ran.stderr
        assert len(relay.messages) == 1
    assert PASSWORD.encode() not in (tmp_path / "data" / "clustermgr.db").read_bytes()


def test_bad_values_are_refused_with_the_field_named(cli: Cli) -> None:
    ran = cli(
        "notify",
        "add-email",
        "m",
        "--host",
        "smtp.example.org",
        "--from",
        "x@example.org",
        "--to",
        "not an address",
    )
    assert ran.code == 2
    assert "recipients" in ran.stderr and "email address" in ran.stderr
    ran = cli("notify", "add-webhook", "Bad Name", "--url", "https://x.example.org/h")
    assert ran.code == 2 and "name" in ran.stderr
    ran = cli("notify", "add-webhook", "h", "--url", "file:///etc/passwd")
    assert ran.code == 2 and "url" in ran.stderr
