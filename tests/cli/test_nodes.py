"""``clustermgr node add|remove`` over real SSH: what a removal loses before the
question, refusals before anything changes, the result on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import Cli, add_args
from sshd import SshdLab

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def _members(cli: Cli, sshds: SshdLab) -> list[str]:
    assert cli("cluster", "create", "t").code == 0
    names = []
    for node in sshds.hosts[:2]:
        fingerprint = node.host_key.fingerprint
        ran = cli(*add_args(node, sshds.client_key.path, "t", "--fingerprint", fingerprint))
        assert ran.code == 0, ran.stderr
        names.append(node.target.name)
    return names


def test_a_node_is_taken_out_once_confirmed_and_the_last_one_never(
    cli: Cli, sshds: SshdLab
) -> None:
    first, second = _members(cli, sshds)
    asked = cli("node", "remove", "t", first)
    assert asked.code == 2, asked.stderr
    assert f"taking {first} out of cluster t loses:" in asked.stderr
    assert len(cli("server", "list", "--cluster", "t", "--json").json()[0]["servers"]) == 2

    ran = cli("node", "remove", "t", first, "--yes", "--json")
    assert ran.code == 0, ran.stderr
    report = ran.json()
    assert report["kind"] == "node-remove" and report["state"] is None and report["reachable"]
    [left] = cli("server", "list", "--cluster", "t", "--json").json()[0]["servers"]
    assert (left["hostname"], left["state"]) == (second, "member")

    last = cli("node", "remove", "t", second, "--yes", "--json")
    assert last.code == 2 and "last identity node" in last.json()["message"]
    stranger = cli("node", "remove", "t", "idp9.example.org", "--yes", "--json")
    assert stranger.code == 2 and "no server 'idp9.example.org'" in stranger.json()["message"]


def test_a_new_node_needs_a_key_to_log_in_with(cli: Cli, sshds: SshdLab) -> None:
    _members(cli, sshds)
    ran = cli("node", "add", "t", "idp9.example.org", "--json")
    assert ran.code == 2 and "give --key" in ran.json()["hint"]
    listed = cli("server", "list", "--cluster", "t", "--json").json()[0]["servers"]
    assert "idp9.example.org" not in [s["hostname"] for s in listed]
