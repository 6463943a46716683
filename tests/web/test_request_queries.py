"""What one request costs the database: the signed-in dashboard reads a fixed number of
queries however many clusters, servers, jobs and alerts there are (no query per cluster
or per component), and an API request looks its token up once.

Counted with a SQLAlchemy statement listener on the real app (no timing).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from clustermgr.auth import service as auth
from clustermgr.components.cache.model import REDIS_SECRET
from clustermgr.components.lb.settingsstore import mark_applied
from clustermgr.components.ldap.ids import server_ids
from clustermgr.components.registry import COMPONENTS
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.monitor import store as monitor
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.redact import Secret
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role
from clustermgr.web.security import SESSION_COOKIE
from webfixture import ADMIN_USERNAME, client, create_user, running_app, sign_in


@dataclass
class Web:
    manager: Manager
    gui: httpx.AsyncClient
    api: httpx.AsyncClient
    added: int = 0


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    settings = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    admin = await create_user(settings)
    async with (
        running_app(settings) as app,
        client(app=app) as gui,
        client(app=app, token=admin.token) as api,
    ):
        await sign_in(gui)
        yield Web(app.state.web.manager, gui, api)


async def add_cluster(web: Web) -> str:
    """A cluster of two identity servers and a proxy with every component set up, a
    watcher cycle of each (a critical alert on LDAP), and finished jobs with reports."""
    web.added += 1
    name = f"c{web.added}"
    hosts = [(f"idp1.{name}.test", Role.IDENTITY), (f"idp2.{name}.test", Role.IDENTITY)]
    hosts.append((f"proxy.{name}.test", Role.PROXY))
    await clusters.create_cluster(web.manager, name)
    async with web.manager.store() as inventory:
        for n, (host, role) in enumerate(hosts, start=1):
            spec = ServerSpec(name, host, "192.0.2.1", role, ssh_port=web.added * 10 + n)
            await inventory.add_server(spec, None, [])
    async with web.manager.store() as inventory:
        row = await inventory.cluster(name)
        await server_ids(inventory, row, [s for s in row.servers if s.role == "identity"])
        await inventory.cluster_secret(row, REDIS_SECRET, lambda: Secret(secrets.token_hex(16)))
    await mark_applied(web.manager, name)
    at = utcnow() - timedelta(seconds=5)
    broken = Finding(f"node-down:{hosts[1][0]}", Severity.CRITICAL, "slapd is down")
    for component in ("ldap", "cache", "lb"):
        found = [broken] if component == "ldap" else []
        cycle = monitor.Cycle(name, component, at, {}, findings=found)
        await monitor.record_cycle(web.manager, cycle)
    checks = [{"host": h, "check": "disk", "status": "pass", "detail": "ok"} for h, _ in hosts]
    for kind, result in (("preflight", {"ok": True, "checks": checks}), ("plan", {"ok": True})):
        for _ in range(3):
            job = await jobs.create(
                web.manager,
                kind=kind,
                cluster=name,
                mutating=False,
                user="admin",
                params={},
                runner="embedded",
            )
            await jobs.finish(web.manager, job.id, JobState.SUCCEEDED, result=result)
    return name


@contextmanager
def statements(manager: Manager) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = manager.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_reports(statement: str) -> bool:
    """Whether ``statement`` reads whole job reports (not parts of them by JSON path)."""
    return "jobs.result" in re.sub(r"JSON_EXTRACT\(jobs\.result, \?\)", "", statement)


async def dashboard_statements(web: Web, *, kept: bool = False) -> list[str]:
    """What one dashboard request reads; unless ``kept``, with nothing kept from before."""
    await web.gui.get("/")  # a session renewal (a write) is not what is counted
    if not kept:
        web.manager.db.reads.clear()
    with statements(web.manager) as seen:
        page = await web.gui.get("/")
    assert page.status_code == 200
    return seen


async def test_the_dashboard_reads_the_same_queries_for_one_cluster_and_for_five(
    web: Web,
) -> None:
    await add_cluster(web)
    one = await dashboard_statements(web)
    for _ in range(4):
        await add_cluster(web)
    five = await dashboard_statements(web)

    assert len(five) == len(one), "\n".join(five)
    # Nine of the page's own, and one per component that says where it is set up.
    set_up = sum(1 for c in COMPONENTS if c.set_up_in is not None)
    assert len(five) <= 9 + set_up, "\n".join(five)
    # Nothing reads every job's report: only the latest preflight's of each cluster.
    assert sum(reads_reports(s) for s in five) == 1

    page = (await web.gui.get("/")).text
    for n in range(1, 6):
        health = re.search(rf'id="health-c{n}">(.*?)</table>', page, re.S)
        assert health is not None
        assert re.search(r'data-component="ldap">.*?health-critical', health.group(1), re.S)
        assert re.search(r'data-component="lb">.*?health-ok', health.group(1), re.S)
        assert f"/servers/c{n}/idp1.c{n}.test" in page
    # Every server's verdict, from its cluster's latest preflight.
    assert len(re.findall(r'class="check check-pass" href="/jobs/\d+"', page)) == 15
    assert "5 critical alerts" in page


async def test_an_unchanged_database_costs_the_dashboard_no_query(web: Web) -> None:
    await add_cluster(web)
    assert len(await dashboard_statements(web)) > 1
    assert await dashboard_statements(web, kept=True) == []
    await web.api.get("/api/v1/me")  # its first use is written: a commit
    await web.api.get("/api/v1/me")
    with statements(web.manager) as seen:
        assert (await web.api.get("/api/v1/me")).status_code == 200
    assert seen == []

    # Any commit, here a new cluster, shows at the next request.
    name = await add_cluster(web)
    with statements(web.manager) as seen:
        page = (await web.gui.get("/")).text
    assert len(seen) > 1 and f'id="health-{name}"' in page


async def test_a_role_change_a_sign_out_and_a_revocation_show_at_the_next_request(
    web: Web,
) -> None:
    await web.gui.get("/")
    await web.api.get("/api/v1/me")
    assert "Add a server" in (await web.gui.get("/")).text
    assert (await web.api.get("/api/v1/me")).json()["role"] == "admin"

    await auth.set_role(web.manager, ADMIN_USERNAME, auth.UserRole.VIEWER)
    assert "An admin adds the servers." in (await web.gui.get("/")).text
    assert (await web.api.get("/api/v1/me")).json()["role"] == "viewer"

    await auth.revoke_api_token(web.manager, ADMIN_USERNAME, "tests")
    assert (await web.api.get("/api/v1/me")).status_code == 401

    cookie = {SESSION_COOKIE: str(web.gui.cookies.get(SESSION_COOKIE))}
    page = (await web.gui.get("/")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    signed_out = await web.gui.post("/logout", data={"csrf_token": token.group(1)})
    assert signed_out.status_code == 303
    # The old cookie, sent again, is a stranger's.
    again = await web.gui.get("/", cookies=cookie)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


async def test_an_api_request_looks_its_token_up_once(web: Web) -> None:
    await add_cluster(web)
    await web.api.get("/api/v1/jobs")
    with statements(web.manager) as seen:
        answer = await web.api.get("/api/v1/jobs")
    assert answer.status_code == 200
    assert sum("FROM api_tokens" in s for s in seen) == 1, "\n".join(seen)
    assert (
        await web.api.get("/api/v1/jobs", headers={"Authorization": "Bearer x"})
    ).status_code == 401


async def test_the_job_list_answers_summaries_and_the_job_its_report(web: Web) -> None:
    await add_cluster(web)
    page = (await web.api.get("/api/v1/jobs")).json()
    assert page["items"], page
    for item in page["items"]:
        assert "result" not in item and "params" not in item, item
        assert item["ok"] is True and item["counts"] is None and item["error"] is None
    one = (await web.api.get(f"/api/v1/jobs/{page['items'][0]['id']}")).json()
    assert one["result"] == {"ok": True} and one["params"] == {}

    web.manager.db.reads.clear()
    with statements(web.manager) as seen:
        await web.api.get("/api/v1/jobs")
    listed = [s for s in seen if "FROM jobs" in s]
    # One query, which reads each report's verdict and counts, not the report.
    assert len(listed) == 1 and not reads_reports(listed[0]), listed

    # Kept until the database changes: then the next request shows the change.
    with statements(web.manager) as seen:
        assert (await web.api.get("/api/v1/jobs")).json() == page
    assert seen == []
    job = await jobs.create(
        web.manager,
        kind="plan",
        cluster="c1",
        mutating=False,
        user="admin",
        params={},
        runner="embedded",
    )
    newest = (await web.api.get("/api/v1/jobs")).json()["items"][0]
    assert (newest["id"], newest["state"], newest["ok"]) == (job.id, "queued", None)


async def test_the_pages_that_list_jobs_read_no_report_in_their_lists(web: Web) -> None:
    name = await add_cluster(web)
    for path, reports in (
        ("/jobs", 0),
        # The latest preflight (the servers' verdicts) and the stage board's few jobs.
        (f"/clusters/{name}", 2),
        (f"/clusters/{name}/ldap", 0),
        (f"/clusters/{name}/cache", 0),
        (f"/clusters/{name}/lb", 0),
    ):
        with statements(web.manager) as seen:
            page = await web.gui.get(path)
        assert page.status_code == 200, (path, page.text)
        assert sum(reads_reports(s) for s in seen) == reports, (path, seen)
    cluster = (await web.gui.get(f"/clusters/{name}")).text
    # Its servers' verdicts come from the latest preflight, its history from summaries.
    assert len(re.findall(r'class="check check-pass"', cluster)) == 3, cluster
    assert len(re.findall(r'<a href="/jobs/\d+">#\d+</a>', cluster)) == 6
