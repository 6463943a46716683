"""``clustermgr lb certificate|location``: validated by the settings model, audited as the CLI user."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Cli

pytestmark = pytest.mark.integration


def test_certificate_paths_off_the_allow_list_are_refused(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    for bad in ("etc/lb.crt", "/etc/../lb.crt", "/etc/lb$(id).crt"):
        ran = cli("lb", "certificate", "t", "--cert-file", bad, "--key-file", "/k.pem", "--json")
        assert ran.code == 2, ran.stderr
        assert "is not an absolute path" in ran.json()["message"]
    ran = cli("lb", "certificate", "t", "--cert-file", "/etc/ssl/lb.crt", "--key-file", "/k.pem")
    assert ran.code == 0, ran.stderr
    ran = cli("lb", "location", "t", "/scim", "backend")
    assert ran.code == 2 and "unknown locations /scim" in ran.stderr
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        rows = conn.execute("SELECT actor, action, result FROM audit ORDER BY id").fetchall()
    me = f"cli:{getpass.getuser()}"
    assert rows == [
        *[(me, "lb.settings", "failed")] * 3,
        (me, "lb.settings", "ok"),
        (me, "lb.settings", "failed"),
    ]
