"""The parsers on the logs the lab's daemons really write: the balancer's access log in
the format clustermgr renders, a node's web front, oxAuth, syslog and sshd's logins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from clustermgr import topology
from clustermgr.components.logs import sources
from clustermgr.components.logs.parse import parse
from clustermgr.components.logs.sources import Source
from clustermgr.logstore.records import LogRecord
from labfixture import SLOT, Lab, running_lab
from lblab import balance, client, proxy_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("logs-parse-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        first = await balance(running)
        assert first["ok"], json.dumps(first, indent=1)
        yield running


async def records(lab: Lab, host: str, source: Source) -> list[LogRecord]:
    assert source.path is not None
    text = await lab.sh(host, f"tail -n 200 {source.path}")
    now = datetime.now(UTC)
    return [parse(source, host, line, now) for line in text.splitlines() if line.strip()]


def recent(record: LogRecord) -> bool:
    """Stamped by the line itself within the last hour (not the time it was read)."""
    return timedelta(0) <= datetime.now(UTC) - record.at < timedelta(hours=1)


async def test_a_request_through_the_balancer_is_logged_with_its_fields(lab: Lab) -> None:
    with client() as http:
        assert http.get(proxy_url(lab, "/oxauth/.well-known/openid-configuration?x=1")).is_success
    found = await records(lab, "proxy1", sources.NGINX_ACCESS)
    mine = [r for r in found if r.fields.get("path") == "/oxauth/.well-known/openid-configuration"]
    assert mine, [r.message for r in found]
    record = mine[-1]
    assert recent(record) and record.level == "info"
    assert record.fields["method"] == "GET" and record.fields["status"] == 200
    assert isinstance(record.fields["request_time"], float)
    assert isinstance(record.fields["bytes"], int) and record.fields["bytes"] > 0
    assert str(record.fields["upstream"]).endswith(":443")
    assert topology.NGINX_ACCESS_FORMAT_NAME in await lab.sh("proxy1", "nginx -T 2>/dev/null")


async def test_a_nodes_web_front_oxauth_and_syslog_lines_are_read(lab: Lab) -> None:
    web = await records(lab, "idp1", sources.NGINX_FRONT_ACCESS)
    assert web and all("status" in r.fields and recent(r) for r in web), [r.message for r in web]
    app = await records(lab, "idp1", sources.OXAUTH)
    assert app and all(r.level in {"info", "warning", "error"} and recent(r) for r in app)
    system = await records(lab, "idp1", sources.SYSLOG)
    assert system and all(recent(r) and "program" in r.fields for r in system), [
        r.message for r in system if not recent(r) or "program" not in r.fields
    ]


async def test_sshd_logins_are_read_from_auth_log(lab: Lab) -> None:
    logins = [
        r
        for r in await records(lab, "idp1", sources.AUTH)
        if r.fields.get("program") == "sshd" and "Accepted publickey" in r.message
    ]
    assert logins and all(recent(r) and r.level is None for r in logins)
