"""/api/v1/clusters/{cluster}/nodes: what a removal loses, and the node jobs started, a
node that may not be taken out refused before any job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.settings import Settings
from replicationdata import IDP1, IDP2, add_cluster
from webfixture import client, create_user, running_app


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Manager, str]]:
    settings = Settings(data_dir=tmp_path / "manager", connect_timeout=0.5, watch_enabled=False)
    token = (await create_user(settings)).token
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        cluster = await add_cluster(manager)
        async with client(app=app, token=token) as http:
            yield http, manager, cluster


async def test_removal_effects_name_what_is_lost_and_refuse_a_stranger(
    api: tuple[httpx.AsyncClient, Manager, str],
) -> None:
    http, _, cluster = api
    answer = await http.get(
        f"/api/v1/clusters/{cluster}/nodes/{IDP1}/removal-effects", params={"uninstall": "true"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["node"] == IDP1 and body["uninstall"] is True
    assert body["lost"][0] == f"{IDP1} is not reachable: nothing on it is touched"
    stranger = await http.get(f"/api/v1/clusters/{cluster}/nodes/idp9.x.test/removal-effects")
    assert stranger.status_code == 400 and stranger.json()["error"] == "invalid_input"


async def test_the_jobs_start_and_a_node_not_in_the_cluster_starts_none(
    api: tuple[httpx.AsyncClient, Manager, str],
) -> None:
    http, manager, cluster = api
    refused = await http.post(
        f"/api/v1/clusters/{cluster}/nodes/idp9.x.test/remove", json={"uninstall": False}
    )
    assert refused.status_code == 400 and "no server" in refused.json()["message"]
    assert await store.active_count(manager) == 0
    started = await http.post(f"/api/v1/clusters/{cluster}/nodes/{IDP2}/add")
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "node-add"
    assert started.headers["Location"] == f"/api/v1/jobs/{started.json()['id']}"
    shown = await http.get("/api/v1/servers", params={"cluster": cluster})
    assert {s["hostname"]: s["state"] for s in shown.json()} == {IDP1: "member", IDP2: "member"}
