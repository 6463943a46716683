"""Links from an alert and from a job to the pages of the components declaring
``around`` (the logs), over the event's hosts and time: the pages name no component."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clustermgr.components import registry
from clustermgr.components.contract import Component
from clustermgr.core.manager import Manager
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, hosts_of_key
from clustermgr.plan.events import Event, EventKind
from clustermgr.settings import Settings
from clustermgr.web.pages import around
from replicationdata import BROKEN, IDP1, IDP2, add_cluster
from webfixture import client, create_user, running_app, sign_in

SHOWS = Component(name="shows", title="Shows", around="shows around this time")
PLAIN = Component(name="plain", title="Plain")


def test_a_host_is_named_by_a_key_as_the_alerts_filter_reads_it() -> None:
    hosts = ["idp1.example.org", "idp2.example.org", "idp10.example.org"]
    assert hosts_of_key("node-down:idp1.example.org", hosts) == ["idp1.example.org"]
    assert hosts_of_key("repair:stunnel4:idp2", hosts) == ["idp2.example.org"]
    assert hosts_of_key("agreement:idp2.example.org<-idp1", hosts) == hosts[:2]
    assert hosts_of_key("rule:disk-full", hosts) == []


def test_links_span_the_event_and_a_margin_for_each_declaring_component() -> None:
    start = datetime(2026, 12, 6, 10, 0, 30, tzinfo=UTC)
    end = start + timedelta(minutes=2)
    found = around.links([PLAIN, SHOWS], "c1", ["a.example", "b"], start, end)
    assert [(link.text, link.host) for link in found] == [
        ("shows around this time", "a.example"),
        ("shows around this time", "b"),
    ]
    url = urlsplit(found[0].href)
    assert url.path == "/clusters/c1/shows"
    assert parse_qs(url.query) == {
        "host": ["a.example"],
        "from": ["2026-12-06T09:55:30Z"],
        "to": ["2026-12-06T10:07:30Z"],
    }
    # Still going on: no end; not started: no link.
    [going] = around.links([SHOWS], "c1", ["b"], start, None)
    assert "to" not in parse_qs(urlsplit(going.href).query)
    assert around.links([SHOWS], "c1", ["b"], None, None) == []
    assert around.links([PLAIN], "c1", ["b"], start, end) == []


@dataclass
class Web:
    manager: Manager
    gui: httpx.AsyncClient
    cluster: str


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    await create_user(settings)
    async with running_app(settings) as app, client(app=app) as gui:
        await sign_in(gui)
        manager: Manager = app.state.web.manager
        yield Web(manager, gui, await add_cluster(manager))


def around_hrefs(html: str) -> list[dict[str, list[str]]]:
    """The query of each link of the registry's declaring components, by its path."""
    names = [c.name for c in registry.COMPONENTS if c.around]
    assert names, "no component declares around"
    found = re.findall(r'<a href="(/clusters/[^"]+)" class="around-link">', html)
    return [
        {"path": [urlsplit(h).path], **parse_qs(urlsplit(h.replace("&amp;", "&")).query)}
        for h in found
    ]


async def test_the_alert_page_links_the_alerts_hosts_around_its_time(web: Web) -> None:
    opened = datetime.now(UTC).replace(microsecond=0)
    await store.record_cycle(
        web.manager, Cycle(web.cluster, "ldap", opened, {}, findings=(BROKEN,))
    )
    lonely = Finding("rule:disk-full", Severity.WARNING, "a rule of no host")
    await store.record_cycle(
        web.manager, Cycle(web.cluster, "metrics", opened, {}, findings=(lonely,))
    )
    page = await web.gui.get(f"/clusters/{web.cluster}/alerts")
    assert page.status_code == 200, page.text
    links = around_hrefs(page.text)
    declaring = [c for c in registry.COMPONENTS if c.around]
    # The open alert and its history row, each linking both hosts of the pair.
    assert len(links) == 2 * 2 * len(declaring)
    assert {link["host"][0] for link in links} == {IDP1, IDP2}
    for link in links:
        assert link["path"][0] in {f"/clusters/{web.cluster}/{c.name}" for c in declaring}
        assert link["from"] == [around.instant(opened - around.MARGIN)]
        assert "to" not in link  # still open
    # Resolved: the link ends a margin after.
    resolved = opened + timedelta(minutes=1)
    await store.record_cycle(web.manager, Cycle(web.cluster, "ldap", resolved, {}, findings=()))
    page = await web.gui.get(f"/clusters/{web.cluster}/alerts")
    ends = {link["to"][0] for link in around_hrefs(page.text)}
    assert len(ends) == 1 and ends.pop() > around.instant(resolved)


async def test_the_job_page_links_its_hosts_over_its_run(web: Web) -> None:
    job = await jobs.create(
        web.manager,
        kind="plan",
        cluster=web.cluster,
        mutating=False,
        user="admin",
        params={},
        runner="none",
    )
    page = await web.gui.get(f"/jobs/{job.id}")
    assert around_hrefs(page.text) == []  # not started: no time to link
    assert await jobs.claim(web.manager, job.id)
    await jobs.append_events(
        web.manager,
        job.id,
        1,
        [
            Event(EventKind.PLAN_STARTED, "planning"),
            Event(EventKind.STEP_STARTED, "a step", host=IDP2),
            Event(EventKind.STEP_STARTED, "a step", host=IDP1),
            Event(EventKind.STEP_STARTED, "again", host=IDP2),
        ],
    )
    running = around_hrefs((await web.gui.get(f"/jobs/{job.id}")).text)
    assert [link["host"][0] for link in running] == [IDP2, IDP1]
    assert all("to" not in link for link in running)
    await jobs.finish(web.manager, job.id, JobState.SUCCEEDED, result={"ok": True})
    finished = await jobs.get(web.manager, job.id)
    assert finished.started_at is not None and finished.finished_at is not None
    done = around_hrefs((await web.gui.get(f"/jobs/{job.id}")).text)
    assert [link["from"][0] for link in done] == [
        around.instant(finished.started_at - around.MARGIN)
    ] * 2
    assert [link["to"][0] for link in done] == [
        around.instant(finished.finished_at + around.MARGIN)
    ] * 2
