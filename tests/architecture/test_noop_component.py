"""A component declared outside ``src`` plugs into every front end through the registry.

``noop`` (a package in tests/support) fills every hook of :class:`Component` but
the watcher's; handing it to the catalog, the web app and the CLI factory is all
it takes for its job kinds, API route, page and command group to work.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from clustermgr.cli.main import make_cli
from clustermgr.components import registry
from clustermgr.components.contract import deploy_stages
from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.web.app import create_app
from noop import api, cli, jobs, pages
from noop.component import COMPONENT as NOOP
from webfixture import WebUser, client, create_user, sign_in, wait_for_job

PACKAGE = Path(jobs.__file__).parent
#: Everything noop is: __init__, component, jobs, cli, api, pages and one template.
NOOP_FILES = 7
CLUSTER = "noopc"


def test_catalog_holds_its_kinds_and_the_plan_names_its_apply() -> None:
    catalog = registry.job_kinds((*registry.COMPONENTS, NOOP))
    assert catalog.names[-7:] == [
        "noop-plan",
        "noop-apply",
        "noop-status",
        "deploy-plan",
        "deploy",
        "node-add",
        "node-remove",
    ]
    stages = deploy_stages((*registry.COMPONENTS, NOOP))
    assert [s.name for s in stages][-1] == "noop", "its plan and apply: a deploy stage"
    assert catalog.get("noop-plan").applied_by == "noop-apply"
    assert catalog.get("noop-apply").mutating and not catalog.get("noop-status").mutating
    assert "noop-plan" not in registry.job_kinds(), "the registry itself is unchanged"


def test_noop_is_one_package() -> None:
    files = [p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) == NOOP_FILES, sorted(str(p.relative_to(PACKAGE)) for p in files)
    for module in (api, cli, jobs, pages):
        assert Path(module.__file__ or "").parent == PACKAGE
    assert NOOP.templates is not None and NOOP.templates.parent == PACKAGE


def test_cli_group_runs() -> None:
    runner = CliRunner()
    answer = runner.invoke(
        make_cli((*registry.COMPONENTS, NOOP)), ["noop", "plan", CLUSTER, "--message", "hi"]
    )
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == {
        "cluster": CLUSTER,
        "message": "hi",
        "applied": False,
        "ok": True,
    }
    plain = runner.invoke(make_cli(registry.COMPONENTS), ["noop", "plan", CLUSTER])
    assert plain.exit_code != 0, "the entry point's CLI has no noop group"


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    """An empty manager with one cluster (no servers: noop never reaches one)."""
    chosen = Settings(data_dir=tmp_path / "manager", watch_enabled=False)
    manager = await Manager.open(chosen)
    try:
        await clusters.create_cluster(manager, CLUSTER)
    finally:
        await manager.close()
    return chosen


@pytest.fixture
async def admin(settings: Settings) -> WebUser:
    return await create_user(settings)


@pytest.fixture
async def app(settings: Settings, admin: WebUser) -> AsyncIterator[FastAPI]:
    built = create_app(settings, components=(*registry.COMPONENTS, NOOP))
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def api_client(app: FastAPI, admin: WebUser) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=app, token=admin.token) as http:
        yield http


async def test_status_and_set_up_read_the_inventory(app: FastAPI) -> None:
    manager: Manager = app.state.web.manager
    assert NOOP.set_up_in is not None and NOOP.status is not None
    assert await NOOP.set_up(manager, CLUSTER)
    assert not await NOOP.set_up(manager, "nowhere")
    assert (await NOOP.status(manager, CLUSTER)).ok


async def test_api_route_and_openapi(api_client: httpx.AsyncClient) -> None:
    answer = await api_client.get(f"/api/v1/clusters/{CLUSTER}/noop")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cluster": CLUSTER, "message": "status", "applied": False, "ok": True}
    spec = (await api_client.get("/api/v1/openapi.json")).json()
    body = spec["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    variants = {v["title"]: v for v in body["schema"]["oneOf"]}
    params = variants["JobCreate[noop-plan]"]["properties"]["params"]
    assert params["properties"]["message"]["maxLength"] == 40
    assert "/api/v1/clusters/{name}/noop" in spec["paths"]


@pytest.mark.parametrize("kind", ["noop-plan", "noop-apply", "noop-status"])
async def test_job_kinds_run_through_the_api(api_client: httpx.AsyncClient, kind: str) -> None:
    params = {} if kind == "noop-status" else {"message": "hi"}
    answer = await api_client.post(
        "/api/v1/jobs", json={"kind": kind, "cluster": CLUSTER, "params": params}
    )
    assert answer.status_code == 202, answer.text
    job = await wait_for_job(api_client, answer.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["ok"] is True
    assert job["result"]["applied"] is (kind == "noop-apply")
    refused = await api_client.post(
        "/api/v1/jobs",
        json={"kind": "noop-plan", "cluster": CLUSTER, "params": {"message": "x" * 41}},
    )
    assert refused.status_code == 400, "the kind's params model refuses what it must"


async def test_page_and_the_cluster_page_links_to_it(app: FastAPI, admin: WebUser) -> None:
    async with client(app=app) as gui:
        await sign_in(gui, admin.username, admin.password)
        page = await gui.get(f"/clusters/{CLUSTER}/noop")
        assert page.status_code == 200, page.text
        assert f"Noop of {CLUSTER}" in page.text
        cluster_page = await gui.get(f"/clusters/{CLUSTER}")
        assert cluster_page.status_code == 200, cluster_page.text
        assert f'href="/clusters/{CLUSTER}/noop"' in cluster_page.text
