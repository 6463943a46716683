"""The cluster's logs settings through every front end: ``/api/v1/clusters/{name}/logs/
settings``, the settings page's form and ``clustermgr logs settings``; changes for admins
only and audited, a value not allowed refused with nothing changed."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.auth.roles import UserRole
from clustermgr.components.logs.settingsstore import cluster_logs_settings
from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from clustermgr.web.security import CSRF_FIELD
from webfixture import FreshWeb, client, create_user, session_csrf, sign_in

pytestmark = pytest.mark.integration

SETTINGS = "/api/v1/clusters/c/logs/settings"
PAGE = "/clusters/c/logs/settings"
DEFAULTS = {"slapd_log_level": "stats", "max_age_days": 14, "max_megabytes": 1024}


async def kept(manager: Manager) -> dict[str, object]:
    return (await cluster_logs_settings(manager, "c")).as_dict()


async def test_the_api_reads_and_changes_the_settings(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await clusters.create_cluster(manager, "c")
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        got = await api.get(SETTINGS)
        assert got.status_code == 200 and got.json() == DEFAULTS, got.text
        put = await api.put(SETTINGS, json={"max_age_days": 30, "max_megabytes": 200})
        assert put.status_code == 200, put.text
        assert put.json() == {**DEFAULTS, "max_age_days": 30, "max_megabytes": 200} | {
            "apply_needed": False
        }
        level = await api.put(SETTINGS, json={"slapd_log_level": "sync stats"})
        assert level.json()["slapd_log_level"] == "stats sync" and level.json()["apply_needed"]
        after = {"slapd_log_level": "stats sync", "max_age_days": 30, "max_megabytes": 200}
        for body, said in (
            ({"max_age_days": 0}, "max_age_days"),
            ({"max_megabytes": 2_000_000, "max_age_days": 3}, "max_megabytes"),
            ({"slapd_log_level": "loud"}, "not a slapd log level"),
        ):
            bad = await api.put(SETTINGS, json=body)
            assert bad.status_code == 400 and said in bad.json()["message"], bad.text
        assert (await api.put(SETTINGS, json={"keep": 1})).status_code == 422
        assert await kept(manager) == after, "nothing changed by a refused change"
        missing = await api.get("/api/v1/clusters/nowhere/logs/settings")
        assert missing.status_code == 404
    viewer = await create_user(fresh_web.settings, "vera", role=UserRole.VIEWER)
    async with client(app=fresh_web.app, token=viewer.token) as api:
        assert (await api.get(SETTINGS)).json() == after
        refused = await api.put(SETTINGS, json={"max_age_days": 1})
        assert refused.status_code == 403, refused.text
    async with client(app=fresh_web.app) as anon:
        assert (await anon.get(SETTINGS)).status_code == 401
    assert await kept(manager) == after


async def test_the_settings_page_saves_the_form(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await clusters.create_cluster(manager, "c")
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, fresh_web.admin.username, fresh_web.admin.password)
        logs = await gui.get("/clusters/c/logs")
        assert f'href="{PAGE}"' in logs.text
        page = await gui.get(PAGE)
        assert page.status_code == 200, page.text
        assert 'name="max_age_days"' in page.text and 'value="14"' in page.text
        assert "Save the logs settings" in page.text
        csrf = await session_csrf(gui, PAGE)
        form = {"max_age_days": "3", "max_megabytes": "64", "slapd_log_level": "stats"}
        saved = await gui.post(PAGE, data={CSRF_FIELD: csrf, **form})
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"{PAGE}?saved=1&apply=0"
        assert await kept(manager) == {**DEFAULTS, "max_age_days": 3, "max_megabytes": 64}
        level = await gui.post(PAGE, data={CSRF_FIELD: csrf, **form, "slapd_log_level": "sync"})
        shown = await gui.get(level.headers["location"])
        assert "clustermgr logs apply c" in shown.text
        bad = await gui.post(PAGE, data={CSRF_FIELD: csrf, **form, "max_megabytes": "lots"})
        assert bad.status_code == 400 and "max_megabytes" in bad.text
        assert 'value="lots"' in bad.text, "what was typed is kept to correct it"
        no_csrf = await gui.post(PAGE, data={**form, "max_age_days": "9"})
        assert no_csrf.status_code == 403
        assert (await kept(manager))["max_age_days"] == 3
    viewer = await create_user(fresh_web.settings, "vera", role=UserRole.VIEWER)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, viewer.username, viewer.password)
        page = await gui.get(PAGE)
        assert page.status_code == 200 and "Save the logs settings" not in page.text
        assert "an admin changes the logs settings" in page.text
        csrf = await session_csrf(gui, "/clusters/c/logs")
        refused = await gui.post(PAGE, data={CSRF_FIELD: csrf, "max_age_days": "1"})
        assert refused.status_code == 403
    assert await kept(manager) == {
        "slapd_log_level": "sync",
        "max_age_days": 3,
        "max_megabytes": 64,
    }


def test_the_cli_prints_and_changes_the_settings(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    shown = cli("logs", "settings", "t")
    assert shown.code == 0, shown.stderr
    assert [line.split() for line in shown.stdout.splitlines()] == [
        ["slapd_log_level", "stats"],
        ["max_age_days", "14"],
        ["max_megabytes", "1024"],
    ]
    ran = cli("logs", "settings", "t", "--max-age-days", "5", "--max-megabytes", "100", "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json() == {
        "slapd_log_level": "stats",
        "max_age_days": 5,
        "max_megabytes": 100,
        "apply_needed": False,
    }
    assert "logs apply" not in ran.stderr
    ran = cli("logs", "settings", "t", "--slapd-log-level", "stats sync")
    assert ran.code == 0 and "stats sync" in ran.stdout, ran.stderr
    assert "clustermgr logs apply t" in ran.stderr
    for bad, said in (
        (("--max-age-days", "0"), "max_age_days"),
        (("--max-megabytes", "5", "--max-age-days", "99999"), "max_age_days"),
        (("--slapd-log-level", "loud"), "not a slapd log level"),
    ):
        ran = cli("logs", "settings", "t", *bad)
        assert ran.code == 2 and said in ran.stderr, (bad, ran.stderr)
    assert cli("logs", "settings", "t", "--json").json() == {
        "slapd_log_level": "stats sync",
        "max_age_days": 5,
        "max_megabytes": 100,
    }
    assert cli("logs", "settings", "nowhere").code != 0
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        rows = conn.execute(
            "SELECT actor, result FROM audit WHERE action = 'logs.settings'"
        ).fetchall()
    me = f"cli:{getpass.getuser()}"
    assert rows.count((me, "ok")) == 2 and rows.count((me, "failed")) == 3
