"""The signing keys through every front end without servers: ``/api/v1/clusters/{name}/
keys`` and its settings, the page (keys, the rotation's plan, the settings form) and
``clustermgr keys``; changes for admins only, a value not allowed refused with nothing
changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.auth.roles import UserRole
from clustermgr.components.keys import keystore
from clustermgr.components.keys.keystore import KEYSTORE
from clustermgr.components.keys.store import keys_state
from clustermgr.core.manager import Manager
from clustermgr.services import clusterfiles, clusters
from clustermgr.settings import Settings
from clustermgr.web.security import CSRF_FIELD
from webfixture import FreshWeb, client, create_user, session_csrf, sign_in

pytestmark = pytest.mark.integration

API = "/api/v1/clusters/c/keys"
PAGE = "/clusters/c/keys"


async def _sealed_cluster(manager: Manager, *, create: bool = True) -> str:
    if create:
        await clusters.create_cluster(manager, "c")
    key = keystore.new_key()
    async with manager.store() as store:
        await clusterfiles.seal(
            store,
            await store.cluster("c"),
            {KEYSTORE.path: keystore.text({"signing_kid": key["kid"], "keys": [key]})},
        )
    return key["kid"]


async def test_the_api_shows_the_keys_and_changes_the_settings(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    kid = await _sealed_cluster(manager)
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        got = await api.get(API)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["keys"] == [{"key_id": kid, "signs": True, "created": None}]
        assert body["rotation"] is None and body["settings"]["token_lifetime"] == 3600
        assert '"d"' not in got.text, "no private part leaves the manager"
        changed = await api.patch(
            f"{API}/settings", json={"token_lifetime": 20, "rotate_every_days": 30}
        )
        assert changed.json() == {"token_lifetime": 20, "rotate_every_days": 30}, changed.text
        off = await api.patch(f"{API}/settings", json={"rotate_every_days": None})
        assert off.json() == {"token_lifetime": 20, "rotate_every_days": None}
        bad = await api.patch(f"{API}/settings", json={"token_lifetime": 1})
        assert bad.status_code == 400 and "token_lifetime" in bad.json()["message"]
        assert (await api.patch(f"{API}/settings", json={"colour": 1})).status_code == 422
        plan = await api.post("/api/v1/jobs", json={"kind": "keys-rotate-plan", "cluster": "c"})
        assert plan.status_code in (200, 201, 202), plan.text
    viewer = await create_user(fresh_web.settings, "vera", role=UserRole.VIEWER)
    async with client(app=fresh_web.app, token=viewer.token) as api:
        assert (await api.get(f"{API}/settings")).json()["token_lifetime"] == 20
        assert (await api.patch(f"{API}/settings", json={"token_lifetime": 30})).status_code == 403
    assert (await keys_state(manager, "c")).settings.token_lifetime == 20


async def test_the_page_shows_the_plan_before_the_rotation_runs(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    kid = await _sealed_cluster(manager)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, fresh_web.admin.username, fresh_web.admin.password)
        cluster_page = await gui.get("/clusters/c")
        assert f'href="{PAGE}"' in cluster_page.text
        page = await gui.get(PAGE)
        assert page.status_code == 200, page.text
        assert kid in page.text and "signs new tokens" in page.text
        assert "Rotate keys" in page.text and "Run the rotation" not in page.text
        planned = await gui.get(f"{PAGE}?plan=1")
        assert "Run the rotation" in planned.text
        for title in ("add the new key", "sign with the new key", "remove the old keys"):
            assert title in planned.text
        csrf = await session_csrf(gui, PAGE)
        saved = await gui.post(
            "/clusters/c/keys-settings",
            data={CSRF_FIELD: csrf, "token_lifetime": "15", "rotate_every_days": ""},
        )
        assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?saved=1"
        bad = await gui.post(
            "/clusters/c/keys-settings",
            data={CSRF_FIELD: csrf, "token_lifetime": "lots", "rotate_every_days": ""},
        )
        assert bad.status_code == 400 and "token_lifetime" in bad.text
        assert 'value="lots"' in bad.text, "what was typed is kept to correct it"
    assert (await keys_state(manager, "c")).settings.token_lifetime == 15


def test_the_cli_prints_the_settings_and_the_plan(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    shown = cli("keys", "settings", "t")
    assert shown.code == 0, shown.stderr
    assert [line.split() for line in shown.stdout.splitlines()] == [
        ["token_lifetime", "3600"],
        ["rotate_every_days", "off"],
    ]
    ran = cli(
        "keys", "settings", "t", "--token-lifetime", "20", "--rotate-every-days", "7", "--json"
    )
    assert ran.code == 0 and ran.json() == {"token_lifetime": 20, "rotate_every_days": 7}
    off = cli("keys", "settings", "t", "--no-schedule", "--json")
    assert off.json() == {"token_lifetime": 20, "rotate_every_days": None}
    bad = cli("keys", "settings", "t", "--token-lifetime", "1")
    assert bad.code == 2 and "token_lifetime" in bad.stderr, bad.stderr
    plan = cli("keys", "plan", "t")
    assert plan.code == 2 and "has no sealed" in plan.stderr, plan.stderr


async def test_the_cli_shows_the_sealed_keys_unmasked_and_the_plan(tmp_path: Path) -> None:
    """A kid is public: the sealed keystore is a secret whose lines output masks, and a
    kid shown as JSON must not be taken for one of them."""
    data = tmp_path / "data"
    cli = Cli(data)
    assert cli("cluster", "create", "c").code == 0
    manager = await Manager.open(Settings(data_dir=data))
    try:
        kid = await _sealed_cluster(manager, create=False)
    finally:
        await manager.close()
    shown = await asyncio.to_thread(cli, "keys", "status", "c", "--json")
    assert shown.code == 0, shown.stderr
    assert [k["key_id"] for k in shown.json()["keys"]] == [kid]
    table = await asyncio.to_thread(cli, "keys", "status", "c")
    assert kid in table.stdout and "yes" in table.stdout
    plan = await asyncio.to_thread(cli, "keys", "plan", "c")
    assert plan.code == 0, plan.stderr
    for phase in ("add", "sign", "remove"):
        assert phase in plan.stdout
    assert "would run" in plan.stdout
