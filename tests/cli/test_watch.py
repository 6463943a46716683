"""``clustermgr watch`` and ``clustermgr ldap alerts|history`` in a subprocess."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, Measure
from clustermgr.services import clusters
from clustermgr.settings import Settings

pytestmark = pytest.mark.integration

DOWN = Finding("node-down:idp2", Severity.CRITICAL, "slapd on idp2 does not answer")


@pytest.fixture
async def cli(tmp_path: Path) -> Cli:
    """A data folder with cluster ``c`` (no servers), two recorded cycles: one alert episode."""
    manager = await Manager.open(Settings(data_dir=tmp_path / "data"))
    try:
        await clusters.create_cluster(manager, "c")
        for ago, findings in ((3 * 3600, (DOWN,)), (60, ())):
            measures = [Measure("probe_seconds", "idp1", "idp2", 0.04)]
            at = utcnow() - timedelta(seconds=ago)
            await store.record_cycle(manager, Cycle("c", "ldap", at, {}, measures, findings))
    finally:
        await manager.close()
    return Cli(tmp_path / "data")


def test_alerts_open_and_all(cli: Cli) -> None:
    ran = cli("ldap", "alerts", "c", "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json() == []
    ran = cli("ldap", "alerts", "c", "--all", "--json")
    (alert,) = ran.json()
    assert alert["key"] == DOWN.key and alert["resolved_at"] is not None
    ran = cli("ldap", "alerts", "c", "--all")
    assert ran.code == 0, ran.stderr
    head, row = ran.stdout.splitlines()
    assert head.split() == ["SEVERITY", "ALERT", "OPENED", "RESOLVED", "MESSAGE"]
    assert row.split()[:2] == ["critical", DOWN.key] and row.endswith(DOWN.message)
    ran = cli("ldap", "alerts", "c")
    assert (ran.code, ran.stdout) == (0, "")
    assert "no open alerts" in ran.stderr


def test_history_window(cli: Cli) -> None:
    ran = cli("ldap", "history", "c", "--json")
    assert ran.code == 0, ran.stderr
    assert [(s["metric"], s["host"], s["peer"]) for s in ran.json()] == [
        ("probe_seconds", "idp1", "idp2")
    ]
    assert len(cli("ldap", "history", "c", "--since", "4h", "--json").json()) == 2
    ran = cli("ldap", "history", "c", "--since", "4h")
    assert ran.code == 0, ran.stderr
    head, *rows = ran.stdout.splitlines()
    assert head.split() == ["AT", "METRIC", "HOST", "VALUE"]
    assert [r.split()[2:] for r in rows] == [["probe_seconds", "idp1", "/", "idp2", "0.04"]] * 2
    bad = cli("ldap", "history", "c", "--since", "yesterday")
    assert bad.code == 2 and "neither a duration nor a time" in bad.stderr


def test_watch_refuses_a_cluster_with_nothing_to_watch(cli: Cli) -> None:
    ran = cli("watch", "--cluster", "c", "--once", "--json")
    assert ran.code == 2
    assert "nothing to watch" in ran.json()["message"]
    missing = cli("ldap", "alerts", "nope")
    assert missing.code == 1 and "nope" in missing.stderr
    ran = cli("watch", "--once", "--json")  # nothing is set up: nothing to report
    assert ran.code == 0 and ran.stdout == ""
