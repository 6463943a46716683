"""Roles on every route and job kind: a viewer reads everything and changes nothing, an
operator runs jobs but is refused what only an admin may do.

The routes are read from the app itself and the kinds from its catalog, so a new
mutating route must be listed in :data:`MUTATING` (with the role it needs) or the
test fails.  Requests carry valid input, so what refuses them is the role check,
not a missing field.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from clustermgr.auth.roles import UserRole
from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.settings import Settings
from clustermgr.validation import EXAMPLE_KEY
from replicationdata import IDP1, IDP2, add_cluster
from webfixture import (
    ADMIN_PASSWORD,
    ENDLESS_STREAMS,
    client,
    create_user,
    running_app,
    session_csrf,
    sign_in,
)

OPERATOR = UserRole.OPERATOR
ADMIN = UserRole.ADMIN

#: What a user does to its own account, whatever its role (and signing in and out).
SELF_SERVICE = {
    "/login",
    "/logout",
    "/setup",
    "/account/totp/begin",
    "/account/totp/enable",
    "/account/totp/disable",
    "/account/password",
    "/account/tokens",
    "/account/tokens/revoke",
}

SERVER = {
    "cluster": "{cluster}",
    "hostname": "idp9.roles.test",
    "address": "192.0.2.99",
    "role": "identity",
    "ssh_port": "22",
    "ssh_user": "root",
}


@dataclass(frozen=True)
class Change:
    """A request that changes something, and the least role it needs."""

    role: UserRole
    path: str
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None


#: Every mutating route (method, path as declared) -> a valid request to it.
#: POST /api/v1/jobs is tested once per job kind instead.
MUTATING: dict[tuple[str, str], Change] = {
    ("POST", "/api/v1/servers"): Change(
        ADMIN, "/api/v1/servers", json={**SERVER, "ssh_port": 22, "private_key": "key"}
    ),
    ("DELETE", "/api/v1/clusters/{cluster}/servers/{hostname}"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/servers/{idp1}"
    ),
    ("POST", "/api/v1/clusters/{cluster}/servers/{hostname}/trust"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/servers/{idp1}/trust", json={"fingerprint": "SHA256:x"}
    ),
    ("POST", "/api/v1/clusters/{name}/plan"): Change(OPERATOR, "/api/v1/clusters/{cluster}/plan"),
    ("POST", "/api/v1/clusters/{name}/ldap/compare"): Change(
        OPERATOR, "/api/v1/clusters/{cluster}/ldap/compare"
    ),
    ("POST", "/api/v1/clusters/{name}/ldap/reinit"): Change(
        ADMIN,
        "/api/v1/clusters/{cluster}/ldap/reinit",
        json={"node": "{idp1}", "source": "{idp2}", "confirm": True},
    ),
    ("PATCH", "/api/v1/clusters/{name}/lb/settings"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/lb/settings", json={"certificate": "ca"}
    ),
    ("PATCH", "/api/v1/clusters/{name}/settings"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/settings", json={"public_hostname": "sso.lab.test"}
    ),
    ("POST", "/clusters/{name}/settings"): Change(
        ADMIN, "/clusters/{cluster}/settings", form={"public_hostname": "sso.lab.test"}
    ),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Change(OPERATOR, "/api/v1/jobs/{plan}/cancel"),
    ("POST", "/servers/add"): Change(ADMIN, "/servers/add", form={**SERVER, "private_key": "k"}),
    ("POST", "/servers/{cluster}/{hostname}"): Change(
        ADMIN, "/servers/{cluster}/{idp1}", form={**SERVER, "address": "192.0.2.98"}
    ),
    ("POST", "/servers/{cluster}/{hostname}/remove"): Change(
        ADMIN, "/servers/{cluster}/{idp1}/remove", form={}
    ),
    ("POST", "/servers/{cluster}/{hostname}/host-key"): Change(
        ADMIN, "/servers/{cluster}/{idp1}/host-key", form={"fingerprint": "SHA256:x"}
    ),
    ("POST", "/clusters/{name}/check"): Change(OPERATOR, "/clusters/{cluster}/check", form={}),
    ("POST", "/clusters/{name}/plan"): Change(OPERATOR, "/clusters/{cluster}/plan", form={}),
    ("POST", "/clusters/{name}/deploy"): Change(OPERATOR, "/clusters/{cluster}/deploy", form={}),
    ("POST", "/clusters/{name}/stages/{stage}/plan"): Change(
        OPERATOR, "/clusters/{cluster}/stages/ldap/plan", form={}
    ),
    ("POST", "/clusters/{name}/ldap/plan"): Change(
        OPERATOR, "/clusters/{cluster}/ldap/plan", form={}
    ),
    ("POST", "/clusters/{name}/ldap/status"): Change(
        OPERATOR, "/clusters/{cluster}/ldap/status", form={}
    ),
    ("POST", "/clusters/{name}/ldap/compare"): Change(
        OPERATOR, "/clusters/{cluster}/ldap/compare", form={}
    ),
    ("POST", "/clusters/{name}/ldap/reinit"): Change(
        ADMIN,
        "/clusters/{cluster}/ldap/reinit",
        form={"node": "{idp1}", "source": "{idp2}", "confirm": "yes"},
    ),
    ("POST", "/clusters/{name}/install/settings"): Change(
        ADMIN,
        "/clusters/{cluster}/install/settings",
        form={
            "organization": "Acme",
            "city": "Austin",
            "state": "TX",
            "country": "US",
            "admin_email": "admin@example.org",
            "version": "4.5.0-1",
            "repository_url": "http://192.0.2.1:8790",
            "repository_key": EXAMPLE_KEY,
            "admin_password": "a long enough password",
        },
    ),
    ("POST", "/clusters/{name}/install/plan"): Change(
        OPERATOR, "/clusters/{cluster}/install/plan", form={}
    ),
    ("POST", "/clusters/{name}/install/remove"): Change(
        ADMIN, "/clusters/{cluster}/install/remove", form={"node": "{idp1}", "understood": "yes"}
    ),
    ("POST", "/clusters/{name}/cache/plan"): Change(
        OPERATOR, "/clusters/{cluster}/cache/plan", form={}
    ),
    ("POST", "/clusters/{name}/cache/status"): Change(
        OPERATOR, "/clusters/{cluster}/cache/status", form={}
    ),
    ("POST", "/clusters/{name}/lb/{action}"): Change(
        OPERATOR, "/clusters/{cluster}/lb/rolling-restart", form={}
    ),
    ("POST", "/clusters/{name}/lb/node/{verb}"): Change(
        OPERATOR, "/clusters/{cluster}/lb/node/drain", form={"node": "{idp1}"}
    ),
    ("POST", "/clusters/{name}/lb-locations"): Change(
        ADMIN, "/clusters/{cluster}/lb-locations", form={"loc:/oxauth": "backend_id"}
    ),
    ("POST", "/clusters/{name}/lb-certificate"): Change(
        ADMIN, "/clusters/{cluster}/lb-certificate", form={"source": "ca"}
    ),
    ("PATCH", "/api/v1/clusters/{name}/keys/settings"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/keys/settings", json={"token_lifetime": 60}
    ),
    ("POST", "/clusters/{name}/keys/{action}"): Change(
        OPERATOR, "/clusters/{cluster}/keys/status", form={}
    ),
    ("POST", "/clusters/{name}/keys-settings"): Change(
        ADMIN, "/clusters/{cluster}/keys-settings", form={"token_lifetime": "60"}
    ),
    ("POST", "/api/v1/clusters/{cluster}/nodes/{hostname}/add"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/nodes/{idp1}/add", json={}
    ),
    ("POST", "/api/v1/clusters/{cluster}/nodes/{hostname}/remove"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/nodes/{idp1}/remove", json={"uninstall": False}
    ),
    ("POST", "/clusters/{name}/nodes/add"): Change(
        ADMIN, "/clusters/{cluster}/nodes/add", form={**SERVER, "private_key": "k"}
    ),
    ("POST", "/clusters/{name}/nodes/{hostname}/resume"): Change(
        ADMIN, "/clusters/{cluster}/nodes/{idp1}/resume", form={}
    ),
    ("POST", "/clusters/{name}/nodes/{hostname}/remove"): Change(
        ADMIN, "/clusters/{cluster}/nodes/{idp1}/remove", form={}
    ),
    ("POST", "/jobs/{job_id}/cancel"): Change(OPERATOR, "/jobs/{plan}/cancel", form={}),
    ("POST", "/jobs/{job_id}/rerun"): Change(OPERATOR, "/jobs/{plan}/rerun", form={}),
    ("POST", "/jobs/{job_id}/apply"): Change(
        OPERATOR, "/jobs/{plan}/apply", form={"confirm": "yes"}
    ),
}
HOOK = {"name": "ops-hook", "webhook": {"url": "http://127.0.0.1:9/hook"}}
HOOK_FORM = {"kind": "webhook", "name": "ops-hook", "url": "http://127.0.0.1:9/hook"}
MUTATING |= {
    ("POST", "/api/v1/notify/channels"): Change(ADMIN, "/api/v1/notify/channels", json=HOOK),
    ("PUT", "/api/v1/notify/channels/{name}"): Change(
        ADMIN, "/api/v1/notify/channels/ops-hook", json=HOOK
    ),
    ("DELETE", "/api/v1/notify/channels/{name}"): Change(ADMIN, "/api/v1/notify/channels/ops-hook"),
    **{
        ("POST", f"/api/v1/notify/channels/{{name}}/{verb}"): Change(
            ADMIN, f"/api/v1/notify/channels/ops-hook/{verb}"
        )
        for verb in ("enable", "disable", "test")
    },
    ("POST", "/notify"): Change(ADMIN, "/notify", form=HOOK_FORM),
    ("POST", "/notify/{name}"): Change(ADMIN, "/notify/ops-hook", form=HOOK_FORM),
    **{
        ("POST", f"/notify/{{name}}/{verb}"): Change(ADMIN, f"/notify/ops-hook/{verb}", form={})
        for verb in ("remove", "enable", "disable", "test")
    },
}
MUTATING |= {
    ("PUT", "/api/v1/clusters/{name}/logs/settings"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/logs/settings", json={"max_age_days": 14}
    ),
    ("POST", "/clusters/{name}/logs/settings"): Change(
        ADMIN, "/clusters/{cluster}/logs/settings", form={"max_age_days": "14"}
    ),
}
RULE = {"threshold": 80}
MUTATING |= {
    ("PUT", "/api/v1/clusters/{name}/metrics/rules/{rule}"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/metrics/rules/cpu-busy", json=RULE
    ),
    ("DELETE", "/api/v1/clusters/{name}/metrics/rules/{rule}"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/metrics/rules/cpu-busy"
    ),
    ("DELETE", "/api/v1/clusters/{name}/metrics/rules"): Change(
        ADMIN, "/api/v1/clusters/{cluster}/metrics/rules"
    ),
    ("POST", "/clusters/{name}/metrics/rules/{rule}"): Change(
        ADMIN, "/clusters/{cluster}/metrics/rules/cpu-busy", form={"threshold": "80"}
    ),
    ("POST", "/clusters/{name}/metrics/rules/{rule}/reset"): Change(
        ADMIN, "/clusters/{cluster}/metrics/rules/cpu-busy/reset", form={}
    ),
    ("POST", "/clusters/{name}/metrics/rules-reset"): Change(
        ADMIN, "/clusters/{cluster}/metrics/rules-reset", form={}
    ),
}
JOBS_ROUTE = ("POST", "/api/v1/jobs")
WRITES = {"POST", "PATCH", "PUT", "DELETE"}
PASSWORD = ADMIN_PASSWORD + "-r"


@dataclass
class World:
    app: FastAPI
    values: dict[str, str]
    tokens: dict[UserRole, str]

    def fill(self, text: str) -> str:
        return text.format(**self.values)

    def routes(self) -> list[tuple[str, str]]:
        return sorted(
            (method, route.path)
            for route in iter_route_contexts(self.app.routes)
            for method in (route.methods or ())
            if route.path is not None and route.path != "/static"
        )


async def _finished_plan(manager: Manager, cluster: str) -> int:
    """A successful plan with one step to change: the apply and rerun buttons' job."""
    job = await store.create(
        manager, kind="plan", cluster=cluster, mutating=False, user="t", params={}, runner="x"
    )
    step = StepResult(f"{IDP1}:packages", IDP1, "packages", Outcome.WOULD_CHANGE, "")
    result = ApplyReport("base", True, {IDP1: [step]}).as_dict()
    await store.finish(manager, job.id, JobState.SUCCEEDED, result=result)
    return job.id


@pytest.fixture
async def world(tmp_path: Any) -> AsyncIterator[World]:
    settings = Settings(data_dir=tmp_path / "manager", connect_timeout=1.0, watch_enabled=False)
    tokens = {
        role: (await create_user(settings, role.value, PASSWORD, role=role)).token
        for role in UserRole
    }
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        cluster = await add_cluster(manager)
        values = {"cluster": cluster, "idp1": IDP1, "idp2": IDP2}
        values["plan"] = str(await _finished_plan(manager, cluster))
        yield World(app, values, tokens)


def _filled(world: World, data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: world.fill(v) if isinstance(v, str) else v for k, v in data.items()}


async def _send(
    world: World, http: httpx.AsyncClient, method: str, change: Change
) -> httpx.Response:
    path = world.fill(change.path)
    if path.startswith("/api/"):
        return await http.request(method, path, json=_filled(world, change.json))
    form = {**(_filled(world, change.form) or {}), "csrf_token": await session_csrf(http)}
    return await http.request(method, path, data=form)


@pytest.fixture
async def signed_in(world: World) -> AsyncIterator[dict[UserRole, httpx.AsyncClient]]:
    clients = {}
    for role in (UserRole.VIEWER, UserRole.OPERATOR):
        http = client(app=world.app, token=world.tokens[role])
        await http.__aenter__()
        await sign_in(http, role.value, PASSWORD)
        clients[role] = http
    yield clients
    for http in clients.values():
        await http.__aexit__(None, None, None)


async def test_every_mutating_route_is_classified(world: World) -> None:
    writes = {r for r in world.routes() if r[0] in WRITES and r[1] not in SELF_SERVICE}
    assert writes - {JOBS_ROUTE} == set(MUTATING), "list a new mutating route in MUTATING"


async def test_a_viewer_is_refused_every_change_and_an_operator_the_admin_ones(
    world: World, signed_in: dict[UserRole, httpx.AsyncClient]
) -> None:
    wrong: list[str] = []
    for role, http in signed_in.items():
        for (method, declared), change in MUTATING.items():
            if role.allows(change.role):
                continue
            answer = await _send(world, http, method, change)
            if answer.status_code != 403 or f"needs the {change.role} role" not in answer.text:
                wrong.append(f"{role} {method} {declared}: {answer.status_code}")
    assert wrong == []


async def test_every_job_kind_needs_its_role(
    world: World, signed_in: dict[UserRole, httpx.AsyncClient]
) -> None:
    kinds = list(world.app.state.web.runner.kinds)
    assert {k.role for k in kinds} == {OPERATOR, ADMIN}
    # Those that lose data (a node's directory is replaced, or Gluu Server removed) and
    # those that change who is in the cluster.
    admin = ["install-remove", "ldap-reinit", "node-add", "node-remove"]
    assert sorted(k.name for k in kinds if k.role is ADMIN) == admin
    for role, http in signed_in.items():
        for kind in kinds:
            if role.allows(kind.role):
                continue
            body = {"kind": kind.name, "cluster": world.values["cluster"], "params": {}}
            answer = await http.post("/api/v1/jobs", json=body)
            assert answer.status_code == 403, f"{role} {kind.name}: {answer.text}"
            assert answer.json()["error"] == "forbidden"
            assert kind.role.value in answer.json()["message"]
    audit = await signed_in[UserRole.VIEWER].get("/api/v1/audit", params={"actor": "viewer"})
    refused = [e for e in audit.json()["items"] if e["action"] == "job.start"]
    assert refused and all(e["result"] == "refused" for e in refused)


async def test_a_viewer_reads_every_page_and_api_route(
    world: World, signed_in: dict[UserRole, httpx.AsyncClient]
) -> None:
    http = signed_in[UserRole.VIEWER]
    params = {
        "name": "{cluster}",
        "cluster": "{cluster}",
        "hostname": "{idp1}",
        "host": "{idp1}",
        "rule": "cpu-busy",
        "job_id": "{plan}",
        "component": "ldap",
        "record_id": "1",
    }
    wrong = []
    for method, declared in world.routes():
        if method != "GET" or declared in ENDLESS_STREAMS:
            continue
        path = world.fill(re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], declared))
        query = {"node": IDP1, "source": IDP2} if path.endswith("/ldap/reinit") else None
        answer = await http.get(path, params=query)
        if answer.status_code == 403 or (answer.status_code >= 500 and answer.status_code != 502):
            wrong.append(f"GET {declared}: {answer.status_code}")
    assert wrong == []
    assert (await http.get("/api/v1/me")).json()["role"] == "viewer"


async def test_pages_offer_a_viewer_no_change(
    world: World, signed_in: dict[UserRole, httpx.AsyncClient]
) -> None:
    viewer, operator = signed_in[UserRole.VIEWER], signed_in[UserRole.OPERATOR]
    cluster = world.values["cluster"]
    pages = ("", "/lb", "/metrics", "/metrics/rules", "/nodes/add", f"/nodes/{IDP1}/remove")
    for path in [*(f"/clusters/{cluster}{page}" for page in pages), "/servers/add", "/notify"]:
        html = (await viewer.get(path)).text
        # Forms that post (a change); a form that only picks what to show (the charts'
        # time window) changes nothing.
        posting = re.findall(r'<form[^>]*method="post"[^>]*>.*?</form>', html, re.S)
        buttons = re.findall(r'<button type="submit"[^>]*>([^<]*)<', "".join(posting))
        assert buttons == ["Sign out"], f"{path} offers {buttons} to a viewer"
    html = (await viewer.get(f"/jobs/{world.values['plan']}")).text
    assert "/apply" not in html and "/rerun" not in html
    html = (await operator.get(f"/jobs/{world.values['plan']}")).text
    assert f"/jobs/{world.values['plan']}/apply" in html
    html = (await operator.get(f"/clusters/{cluster}")).text
    assert f"/clusters/{cluster}/plan" in html and "/servers/add" not in html
    assert "/nodes/" not in html, "adding and removing nodes is for admins"
