"""The rules through every front end: ``/api/v1/clusters/{name}/metrics/rules``, the rules
page's forms and ``clustermgr metrics rules``; changes for admins only, bad input named."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.auth.roles import UserRole
from clustermgr.components.metrics import rulestore
from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from clustermgr.web.security import CSRF_FIELD
from webfixture import FreshWeb, client, create_user, session_csrf, sign_in

pytestmark = pytest.mark.integration

RULES = "/api/v1/clusters/r/metrics/rules"


async def test_the_api_lists_changes_and_resets_rules(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await clusters.create_cluster(manager, "r")
    operator = await create_user(fresh_web.settings, "olga", role=UserRole.OPERATOR)
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        listed = await api.get(RULES)
        assert listed.status_code == 200, listed.text
        rules = {r["id"]: r for r in listed.json()["rules"]}
        assert set(rules) >= {"cpu-busy", "disk-used", "disk-full", "host-unreachable"}
        cpu = rules["cpu-busy"]
        assert (cpu["threshold"], cpu["duration"], cpu["changed"]) == (90, 300, False)
        assert cpu["describe"] == "cpu_busy_percent > 90 for 5 min"

        put = await api.put(f"{RULES}/cpu-busy", json={"threshold": 50, "severity": "critical"})
        assert put.status_code == 200, put.text
        assert (put.json()["threshold"], put.json()["severity"], put.json()["changed"]) == (
            50,
            "critical",
            True,
        )
        assert put.json()["default"]["threshold"] == 90
        own = await api.put(
            f"{RULES}/root-disk",
            json={
                "series": "disk_used_percent",
                "labels": {"mount": "/"},
                "comparison": ">",
                "threshold": 70,
            },
        )
        assert own.status_code == 200 and own.json()["default"] is None, own.text

        for body, field in (
            ({"threshold": "x"}, "threshold"),
            ({"severity": "panic"}, "severity"),
            ({"comparison": "=="}, "comparison"),
            ({"duration": -5}, "duration"),
            ({"nope": 1}, "nope"),
        ):
            bad = await api.put(f"{RULES}/cpu-busy", json=body)
            assert bad.status_code in (400, 422) and field in bad.json()["message"], bad.text
        bad = await api.put(f"{RULES}/cpu-busy", json={"labels": {"mount": "/"}})
        assert bad.status_code == 400 and "labels" in bad.json()["message"], bad.text
        bad = await api.put(f"{RULES}/Bad_Id", json={"threshold": 1})
        assert bad.status_code == 400 and "invalid rule id" in bad.json()["message"]
        assert (await api.get("/api/v1/clusters/nowhere/metrics/rules")).status_code == 404

        gone = await api.delete(f"{RULES}/cpu-busy")
        assert gone.json() == {"reset": ["cpu-busy"]}
        assert (await api.delete(RULES)).json() == {"reset": ["root-disk"]}
        assert not any(r["changed"] for r in (await api.get(RULES)).json()["rules"])
    async with client(app=fresh_web.app, token=operator.token) as api:
        assert (await api.get(RULES)).status_code == 200
        refused = await api.put(f"{RULES}/cpu-busy", json={"threshold": 1})
        assert refused.status_code == 403, refused.text
        assert (await api.delete(RULES)).status_code == 403
    async with client(app=fresh_web.app) as anon:
        assert (await anon.get(RULES)).status_code == 401


async def test_the_rules_page_saves_and_resets_a_row(fresh_web: FreshWeb) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await clusters.create_cluster(manager, "r")
    page_path = "/clusters/r/metrics/rules"
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, fresh_web.admin.username, fresh_web.admin.password)
        page = await gui.get(page_path)
        assert page.status_code == 200, page.text
        assert 'id="rule-cpu-busy"' in page.text and "Save cpu-busy" in page.text
        csrf = await session_csrf(gui, page_path)
        saved = await gui.post(
            f"{page_path}/cpu-busy",
            data={CSRF_FIELD: csrf, "threshold": "75", "duration": "20", "severity": "critical"},
        )
        assert saved.status_code == 303, saved.text
        rules = {r.rule.id: r.rule for r in await _rules(manager)}
        cpu = rules["cpu-busy"]
        # An unticked box is not sent: the rule is off.
        assert (cpu.threshold, cpu.duration, cpu.severity.value, cpu.enabled) == (
            75,
            20,
            "critical",
            False,
        )
        page = await gui.get(page_path)
        assert "Reset cpu-busy" in page.text and "changed" in page.text
        bad = await gui.post(
            f"{page_path}/cpu-busy", data={CSRF_FIELD: csrf, "threshold": "lots", "enabled": "on"}
        )
        assert bad.status_code == 400 and "threshold" in bad.text
        reset = await gui.post(f"{page_path}/cpu-busy/reset", data={CSRF_FIELD: csrf})
        assert reset.status_code == 303
        assert not any(s.changed for s in await _rules(manager))
    viewer = await create_user(fresh_web.settings, "vera", role=UserRole.VIEWER)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, viewer.username, viewer.password)
        page = await gui.get(page_path)
        assert page.status_code == 200 and "Save cpu-busy" not in page.text
        assert "an admin changes the alert rules" in page.text
        csrf = await session_csrf(gui, page_path)
        refused = await gui.post(f"{page_path}/cpu-busy", data={CSRF_FIELD: csrf, "threshold": "1"})
        assert refused.status_code == 403


async def _rules(manager: Manager) -> list[rulestore.RuleState]:
    return await rulestore.rules(manager, "r")


def test_the_cli_lists_sets_disables_and_resets(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    listed = cli("metrics", "rules", "list", "t")
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["rule", "state", "condition", "severity", "roles", "from"]
    assert any(line.split()[:2] == ["disk-full", "on"] for line in lines)
    ran = cli("metrics", "rules", "set", "t", "cpu-busy", "--above", "50", "--for", "10s", "--json")
    assert ran.code == 0, ran.stderr
    assert (ran.json()["threshold"], ran.json()["duration"], ran.json()["changed"]) == (
        50,
        10,
        True,
    )
    ran = cli(
        "metrics", "rules", "set", "t", "var-disk", "--series", "disk_used_percent",
        "--label", "mount=/var", "--above", "70", "--severity", "critical",
    )  # fmt: skip
    assert ran.code == 0 and "disk_used_percent{mount=/var} > 70" in ran.stdout, ran.stderr
    assert cli("metrics", "rules", "disable", "t", "load-per-core").code == 0
    data = {r["id"]: r for r in cli("metrics", "rules", "list", "t", "--json").json()}
    assert data["load-per-core"]["enabled"] is False and data["var-disk"]["default"] is None
    for bad, said in (
        (("set", "t", "cpu-busy", "--severity", "info"), "severity"),
        (("set", "t", "cpu-busy", "--for", "soon"), "invalid --for"),
        (("set", "t", "cpu-busy", "--above", "1", "--below", "2"), "not both"),
        (("set", "t", "cpu-busy", "--label", "mount"), "invalid --label"),
        (("set", "t", "cpu-busy"), "nothing to change"),
        (("set", "t", "new", "--severity", "critical"), "needs series"),
    ):
        ran = cli("metrics", "rules", *bad)
        assert ran.code == 2 and said in ran.stderr, (bad, ran.stderr)
    ran = cli("metrics", "rules", "reset", "t", "--json")
    assert ran.code == 0 and ran.json() == {"reset": ["cpu-busy", "load-per-core", "var-disk"]}
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        rows = conn.execute(
            "SELECT actor, action, result FROM audit WHERE action LIKE 'metrics.rules.%'"
        ).fetchall()
    me = f"cli:{getpass.getuser()}"
    assert {r[0] for r in rows} == {me}
    assert [r[2] for r in rows].count("ok") == 4 and rows[-1][1] == "metrics.rules.reset"
