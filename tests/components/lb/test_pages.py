"""The load balancer page and API on what a watcher recorded: backends by state, NGINX's
counters, alerts; the locations form (with the SCIM caveat) and the settings API."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.audit import service as audit
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.settings import (
    PATH_RULE,
    SCIM_CAVEAT,
    CertificateSource,
    Upstream,
)
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, Measure
from clustermgr.services import clusters
from clustermgr.topology import Role
from clustermgr.web.security import CSRF_FIELD
from webfixture import WebUser, session_csrf

pytestmark = pytest.mark.integration

IDP1, IDP2, PROXY = "idp1.lb.test", "idp2.lb.test", "proxy.lb.test"


@pytest.fixture
def manager(web_app: FastAPI) -> Manager:
    return web_app.state.web.manager  # type: ignore[no-any-return]


@pytest.fixture
async def cluster(manager: Manager) -> AsyncIterator[str]:
    name = f"lb-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    async with manager.store() as inventory:
        for octet, host, role in ((201, IDP1, Role.IDENTITY), (202, IDP2, Role.IDENTITY)):
            await inventory.add_server(ServerSpec(name, host, f"192.0.2.{octet}", role), None, [])
        await inventory.add_server(ServerSpec(name, PROXY, "192.0.2.200", Role.PROXY), None, [])
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(manager, name)


def backend(host: str, octet: int, state: str) -> dict[str, object]:
    healthy = state != "down"
    return {
        "host": host,
        "address": f"192.0.2.{octet}:443",
        "state": state,
        "healthy": healthy,
        "status": 200 if healthy else 502,
        "seconds": 0.012,
        "error": "" if healthy else "HTTP 502",
        "issuer": f"https://{PROXY}" if octet == 201 else f"https://{host}",
        "checked_at": utcnow().isoformat(),
    }


async def record(manager: Manager, name: str) -> None:
    snapshot = {
        "proxy": PROXY,
        "issuer": f"https://{PROXY}",
        "backends": [backend(IDP1, 201, "up"), backend(IDP2, 202, "down")],
        "nginx": {"stub_status": {"active": 3, "requests": 1234}, "deployed": {}},
    }
    down = Finding(f"backend:{IDP2}", Severity.CRITICAL, f"{IDP2} fails its health check")
    measures = [Measure("health_seconds", IDP1, None, 0.012)]
    await store.record_cycle(manager, Cycle(name, "lb", utcnow(), snapshot, measures, [down]))


async def test_page_before_any_check_and_after(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    html = (await gui.get(f"/clusters/{cluster}/lb")).text
    assert "No watcher cycle has checked the load balancer" in html
    assert SCIM_CAVEAT in html
    assert 'data-chart="health-chart"' in html and "Nothing in the last 60 minutes." in html
    await record(manager, cluster)
    live = (await gui.get(f"/clusters/{cluster}/lb/live")).text
    assert live.count('<polyline class="series') == 1, "one line: idp1's response time"
    assert f'data-source="{IDP1}"' in live and "(latest 12 ms, 1 point)" in live
    assert f'<tr data-host="{IDP2}">' in live
    assert '<span class="health health-critical">down</span>' in live
    assert '<span class="health health-ok">up</span>' in live
    assert "requests 1234" in live and "12 ms" in live
    assert f"<td>https://{PROXY}</td>" in live, "idp1 serves the cluster's issuer"
    assert (
        f'<span class="health health-warning">https://{IDP2}</span>, not the cluster\'s '
        f"https://{PROXY}" in live
    )
    assert f"{IDP2} fails its health check" in live
    detail = (await gui.get(f"/clusters/{cluster}")).text
    assert f'href="/clusters/{cluster}/lb"' in detail


async def test_the_locations_form_keeps_the_choice(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    token = await session_csrf(gui, f"/clusters/{cluster}/lb")
    done = await gui.post(
        f"/clusters/{cluster}/lb-locations",
        data={CSRF_FIELD: token, "loc:/casa": "backend", "loc:/oxauth": "backend"},
    )
    assert done.status_code == 303
    settings = await lb_settings.lb_settings(manager, cluster)
    assert settings.locations["/casa"] is Upstream.BACKEND
    assert settings.locations["/identity"] is Upstream.BACKEND_ID
    refused = await gui.post(
        f"/clusters/{cluster}/lb-locations", data={CSRF_FIELD: token, "loc:/casa": "nope"}
    )
    assert refused.status_code == 400


async def test_api_health_and_settings(
    api: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    empty = (await api.get(f"/api/v1/clusters/{cluster}/lb")).json()
    assert empty["checked_at"] is None and empty["backends"] == []
    await record(manager, cluster)
    health = (await api.get(f"/api/v1/clusters/{cluster}/lb")).json()
    assert [b["state"] for b in health["backends"]] == ["up", "down"]
    assert health["issuer"] == f"https://{PROXY}"
    assert [b["issuer"] for b in health["backends"]] == [f"https://{PROXY}", f"https://{IDP2}"]
    assert [a["key"] for a in health["open_alerts"]] == [f"backend:{IDP2}"]
    url = f"/api/v1/clusters/{cluster}/lb/settings"
    refused = await api.patch(url, json={"locations": {"/scim": "backend"}})
    assert refused.status_code == 400, refused.text
    changed = await api.patch(url, json={"locations": {"/idp": "backend"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["locations"]["/idp"] == "backend"
    assert (await api.get(url)).json()["locations"]["/identity"] == "backend_id"
    assert (await api.get("/api/v1/clusters/nope/lb")).status_code == 404


async def trail(manager: Manager, cluster: str) -> list[tuple[str, str, str]]:
    """The audit entries about ``cluster``, oldest first: (actor, action, result)."""
    entries = await audit.entries(manager, limit=1000)
    return [(e.actor, e.action, e.result) for e in reversed(entries) if e.target == cluster]


async def test_api_settings_change_is_audited_once_under_the_token_user(
    api: httpx.AsyncClient, manager: Manager, cluster: str, web_admin: WebUser
) -> None:
    url = f"/api/v1/clusters/{cluster}/lb/settings"
    changed = await api.patch(
        url, json={"certificate": "imported", "cert_file": "/etc/ssl/lb.crt", "key_file": "/k.pem"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["cert_file"] == "/etc/ssl/lb.crt"
    assert await trail(manager, cluster) == [(web_admin.username, "lb.settings", "ok")]


@pytest.mark.parametrize(
    "path",
    [
        "etc/lb.crt",
        "/etc/../lb.crt",
        "/etc/lb crt",
        "/etc/lb;x",
        "/etc/nginx/tls/lb.pem; } server { listen 9999; access_log /etc/cron.d/x; }",
        "/etc/nginx/tls/lb.pem\nlisten 9999;",
        "/etc/$(id).pem",
        "/etc/`id`.pem",
        "/etc/'lb'.pem",
    ],
)
async def test_api_refuses_a_certificate_path_off_the_allow_list(
    api: httpx.AsyncClient, manager: Manager, cluster: str, path: str
) -> None:
    url = f"/api/v1/clusters/{cluster}/lb/settings"
    refused = await api.patch(
        url, json={"certificate": "imported", "cert_file": path, "key_file": "/k.pem"}
    )
    assert refused.status_code == 422, refused.text
    assert PATH_RULE in refused.json()["message"]
    assert (await lb_settings.lb_settings(manager, cluster)).cert_file is None


async def test_api_refuses_a_location_off_the_allow_list(
    api: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    url = f"/api/v1/clusters/{cluster}/lb/settings"
    payload = {"locations": {"/idp { return 200; } location /x": "backend"}}
    refused = await api.patch(url, json=payload)
    assert refused.status_code == 422, refused.text
    assert "is not a URL path" in refused.json()["message"]
    assert (await lb_settings.lb_settings(manager, cluster)).locations["/idp"] == "backend_id"


async def test_gui_certificate_form_saves_audits_and_refuses_bad_paths(
    gui: httpx.AsyncClient, manager: Manager, cluster: str, web_admin: WebUser
) -> None:
    token = await session_csrf(gui, f"/clusters/{cluster}/lb")
    url = f"/clusters/{cluster}/lb-certificate"
    bad = {CSRF_FIELD: token, "source": "imported", "cert_file": "/a/../b", "key_file": "/k"}
    refused = await gui.post(url, data=bad)
    assert refused.status_code == 400
    assert "is not an absolute path" in refused.text
    good = {CSRF_FIELD: token, "source": "imported", "cert_file": "/a/b.crt", "key_file": "/k"}
    assert (await gui.post(url, data=good)).status_code == 303
    settings = await lb_settings.lb_settings(manager, cluster)
    assert settings.certificate is CertificateSource.IMPORTED
    assert (settings.cert_file, settings.key_file) == ("/a/b.crt", "/k")
    me = web_admin.username
    assert await trail(manager, cluster) == [
        (me, "lb.settings", "failed"),
        (me, "lb.settings", "ok"),
    ]
