"""``clustermgr server add|list|check|remove`` against real sshd servers.

Every bad input here must end with a clear message, a non-zero exit status and
an inventory exactly as it was before.
"""

from __future__ import annotations

import getpass
import json
import socket
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Cli, add_args
from clustermgr.topology import STUNNEL_NODE
from sshd import SshdHost, SshdLab, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def inventory(cli: Cli) -> list[dict[str, object]]:
    ran = cli("server", "list", "--json")
    assert ran.code == 0, ran.stderr
    return [s for c in ran.json() for s in c["servers"]]


def test_unknown_host_key_needs_explicit_trust(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[0]
    ran = cli(*add_args(node, sshds.client_key.path))
    assert ran.code == 1
    assert f"host key not trusted yet: ssh-ed25519 {node.host_key.fingerprint}" in ran.stderr
    assert "hint:" in ran.stderr
    assert inventory(cli) == []

    ran = cli(
        *add_args(
            node, sshds.client_key.path, "t", "--fingerprint", node.host_key.fingerprint, "--json"
        )
    )
    assert ran.code == 0, ran.stderr
    added = ran.json()
    assert added["host_keys"] == [
        {"algorithm": "ssh-ed25519", "fingerprint": node.host_key.fingerprint}
    ]
    assert [s["hostname"] for s in inventory(cli)] == ["node1"]


def test_wrong_fingerprint_is_refused(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[0]
    ran = cli(
        *add_args(
            node, sshds.client_key.path, "t", "--fingerprint", sshds.alien_host_key.fingerprint
        )
    )
    assert ran.code == 1
    # Nothing was pinned before: not a changed key, a key other than the one given.
    assert "HOST KEY CHANGED" not in ran.stderr
    assert (
        f"the server's key does not match the fingerprint you gave: you gave "
        f"{sshds.alien_host_key.fingerprint}, the server presents {node.host_key}" in ran.stderr
    )
    assert inventory(cli) == []


def test_wrong_ssh_key_is_refused_and_nothing_stored(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[0]
    ran = cli(
        *add_args(node, sshds.stranger_key.path, "t", "--fingerprint", node.host_key.fingerprint)
    )
    assert ran.code == 1
    assert "SSH login as" in ran.stderr and "refused" in ran.stderr
    assert inventory(cli) == []


def test_unreachable_address_is_reported(cli: Cli, sshds: SshdLab) -> None:
    ran = cli(
        "server",
        "add",
        "ghost.example.org",
        "--cluster",
        "t",
        "--role",
        "proxy",
        "--address",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--ssh-key",
        str(sshds.client_key.path),
    )
    assert ran.code == 1
    assert "ghost.example.org: cannot read the SSH host key of 127.0.0.1:" in ran.stderr
    assert inventory(cli) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad_host.example.org", "--role", "identity"], "invalid hostname 'bad_host.example.org'"),
        (["idp1\n.example.org", "--role", "identity"], "invalid hostname 'idp1\\n.example.org'"),
        (
            ["ok.example.org", "--role", "identity", "--address", "fe80::1%eth0;x"],
            "invalid address",
        ),
        (["ok.example.org", "--role", "database"], "invalid role 'database'"),
        (["ok.example.org", "--role", "identity", "--port", "0"], "invalid SSH port 0"),
    ],
)
def test_invalid_input_exits_2_before_any_connection(
    cli: Cli, sshds: SshdLab, args: list[str], message: str
) -> None:
    ran = cli("server", "add", *args, "--cluster", "t", "--ssh-key", str(sshds.client_key.path))
    assert ran.code == 2
    assert message in ran.stderr


def test_duplicate_server_is_refused(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[0]
    trust = ["--fingerprint", node.host_key.fingerprint]
    assert cli(*add_args(node, sshds.client_key.path, "t", *trust)).code == 0
    ran = cli(*add_args(node, sshds.client_key.path, "t", *trust))
    assert ran.code == 1 and "'node1' is already in cluster 't'" in ran.stderr
    assert len(inventory(cli)) == 1


def test_encrypted_key_needs_its_passphrase(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[1]
    trust = ["--fingerprint", node.host_key.fingerprint]
    ran = cli(*add_args(node, sshds.encrypted_key.path, "t", *trust))
    assert ran.code == 2 and "is protected by a passphrase" in ran.stderr
    ran = cli(
        *add_args(node, sshds.encrypted_key.path, "t", *trust, "--passphrase-env", "PP"),
        PP="not the passphrase",
    )
    assert ran.code == 2 and "wrong passphrase" in ran.stderr
    ran = cli(
        *add_args(node, sshds.encrypted_key.path, "t", *trust, "--passphrase-env", "PP"),
        PP=sshds.encrypted_key.passphrase or "",
    )
    assert ran.code == 0, ran.stderr


def add_all(cli: Cli, sshds: SshdLab, cluster: str = "t") -> None:
    for node in sshds.hosts:
        ran = cli(
            *add_args(
                node, sshds.client_key.path, cluster, "--fingerprint", node.host_key.fingerprint
            )
        )
        assert ran.code == 0, ran.stderr


def test_check_passes_on_every_server(cli: Cli, sshds: SshdLab) -> None:
    add_all(cli, sshds)
    ran = cli("server", "check", "--cluster", "t", "--json")
    assert ran.code == 0, ran.stdout + ran.stderr
    report = ran.json()
    assert report["ok"] is True
    by_check = {(c["host"], c["check"]): c for c in report["checks"]}
    for node in sshds.hosts:
        for name in (
            "ssh login",
            "root or sudo",
            "supported OS",
            "port 389",
            "disk",
            "memory",
            "clock",
        ):
            assert by_check[(node.target.name, name)]["status"] in ("pass", "warn"), name
    assert by_check[("(cluster)", "clock skew")]["status"] == "pass"

    # Three identity nodes: the manager's SSH to each, and LDAP both ways between each two.
    pairs = {(p["source"], p["destination"], p["port"]): p for p in report["network"]["pairs"]}
    names = [n.target.name for n in sshds.hosts]
    ldap = {(a, b, port) for a in names for b in names if a != b for port in (389, 636)}
    ssh = {("(manager)", n.target.name, n.target.port) for n in sshds.hosts}
    assert set(pairs) == ldap | ssh
    assert {p["state"] for p in pairs.values()} == {"open"}, pairs

    ran = cli("server", "check", "--cluster", "t")
    assert ran.code == 0, ran.stderr
    out = ran.stdout.splitlines()
    gap = out.index("")
    (head, *rows), (matrix_head, *matrix), verdict = out[:gap], out[gap + 1 : -1], out[-1]
    assert head.split() == ["SERVER", "STATUS", "CHECK", "DETAIL"]
    assert {r.split()[0] for r in rows} >= {n.target.name for n in sshds.hosts}
    assert matrix_head.split() == ["SOURCE", "DESTINATION", "PORT", "STATE", "DETAIL", "OR", "RULE"]
    assert {tuple(r.split()[:4]) for r in matrix} == {
        (a, b, str(port), "open") for a, b, port in ldap | ssh
    }
    assert verdict == "preflight passed"

    ran = cli("server", "check", "--cluster", "t", "--no-network", "--json")
    assert ran.code == 0 and ran.json()["network"] is None

    ran = cli("server", "list")
    assert ran.code == 0, ran.stderr
    head, *rows = ran.stdout.splitlines()
    assert head.split() == ["CLUSTER", "SERVER", "ROLE", "STATE", "SSH"]
    assert [r.split()[:4] for r in rows] == [
        ["t", n.target.name, "identity", "member"] for n in sshds.hosts
    ]


def test_check_reports_a_port_held_by_the_wrong_daemon(cli: Cli, sshds: SshdLab) -> None:
    """The identity node's stunnel port held by another program fails the check, by name."""
    node = sshds.hosts[0]
    assert (
        cli(
            *add_args(node, sshds.client_key.path, "t", "--fingerprint", node.host_key.fingerprint)
        ).code
        == 0
    )
    squatter = socket.socket()
    try:
        squatter.bind(("127.0.0.1", STUNNEL_NODE.port))
    except OSError:
        pytest.skip(f"port {STUNNEL_NODE.port} is already in use on this machine")
    squatter.listen()
    try:
        ran = cli("server", "check", "--cluster", "t", "--json")
    finally:
        squatter.close()
    assert ran.code == 1
    checks = {c["check"]: c for c in ran.json()["checks"]}
    port = checks[f"port {STUNNEL_NODE.port}"]
    assert port["status"] == "fail"
    own_name = Path("/proc/self/comm").read_text().strip()  # what ss shows for this process
    assert port["detail"].startswith(f"held by {own_name};")
    assert "expected stunnel or stunnel4" in port["detail"]
    assert checks["port 389"]["status"] == "pass"


def test_check_refuses_a_changed_host_key(cli: Cli, sshds: SshdLab, tmp_path: Path) -> None:
    """node2's endpoint registered under node1's pinned key: a man in the middle, as seen."""
    node1, node2 = sshds.hosts[0], sshds.hosts[1]
    assert (
        cli(
            *add_args(
                node1, sshds.client_key.path, "t", "--fingerprint", node1.host_key.fingerprint
            )
        ).code
        == 0
    )
    db = tmp_path / "data" / "clustermgr.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE servers SET ssh_port = ? WHERE hostname = 'node1'", (node2.target.port,)
        )
    ran = cli("server", "check", "--cluster", "t")
    assert ran.code == 1
    # The failed check is part of the result: on stdout, in its row.
    assert f"HOST KEY CHANGED: pinned {node1.host_key}, server presents {node2.host_key}" in (
        ran.stdout
    )
    assert "refusing to connect" in ran.stdout
    assert "clustermgr server trust node1 --cluster CLUSTER" in ran.stdout
    assert ran.stdout.splitlines()[-1] == "preflight failed"


def pinned_fingerprints(cli: Cli) -> list[str]:
    (server,) = inventory(cli)
    keys = server["host_keys"]
    assert isinstance(keys, list)
    return [str(key["fingerprint"]) for key in keys]


def reinstall(cli: Cli, sshds: SshdLab, tmp_path: Path) -> tuple[SshdHost, SshdHost]:
    """node1 added and pinned, then reached at node2's endpoint: as if reinstalled."""
    node1, node2 = sshds.hosts[0], sshds.hosts[1]
    trust = ["--fingerprint", node1.host_key.fingerprint]
    assert cli(*add_args(node1, sshds.client_key.path, "t", *trust)).code == 0
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        conn.execute(
            "UPDATE servers SET ssh_port = ? WHERE hostname = 'node1'", (node2.target.port,)
        )
    return node1, node2


def test_trust_pins_the_new_key_once_confirmed(cli: Cli, sshds: SshdLab, tmp_path: Path) -> None:
    node1, node2 = reinstall(cli, sshds, tmp_path)
    trust = ["server", "trust", "node1", "--cluster", "t"]

    # Nobody to ask and no fingerprint: nothing is trusted blindly.
    ran = cli(*trust)
    assert ran.code == 2 and "--fingerprint" in ran.stderr
    # A fingerprint other than the server's: refused.
    ran = cli(*trust, "--fingerprint", sshds.alien_host_key.fingerprint, "--yes")
    assert ran.code == 1
    assert "does not match the fingerprint you gave" in ran.stderr
    # The right one, but not confirmed: both keys are shown, nothing changes.
    ran = cli(*trust, "--fingerprint", node2.host_key.fingerprint)
    assert ran.code == 2 and "--yes" in ran.stderr
    assert f"pinned:           {node1.host_key}" in ran.stderr
    assert f"server presents:  {node2.host_key}" in ran.stderr
    assert pinned_fingerprints(cli) == [node1.host_key.fingerprint]
    assert cli("server", "check", "--cluster", "t").code == 1

    ran = cli(*trust, "--fingerprint", node2.host_key.fingerprint, "--yes", "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json()["presented"] == {
        "algorithm": "ssh-ed25519",
        "fingerprint": node2.host_key.fingerprint,
    }
    assert pinned_fingerprints(cli) == [node2.host_key.fingerprint]
    checked = cli("server", "check", "--cluster", "t")
    assert checked.code == 0, checked.stderr
    # Trusting the key that is pinned now changes nothing.
    again = cli(*trust, "--fingerprint", node2.host_key.fingerprint, "--yes")
    assert again.code == 0 and "nothing to trust" in again.stdout
    assert "pinned:" in again.stderr and "pinned:" not in again.stdout

    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        rows = conn.execute(
            "SELECT actor, result, detail FROM audit WHERE action = 'server.trust' ORDER BY id"
        ).fetchall()
    actor = f"cli:{getpass.getuser()}"
    assert [row[:2] for row in rows] == [(actor, "refused"), (actor, "ok")]
    trusted = json.loads(rows[1][2])
    assert trusted["pinned"] == [str(node1.host_key)]
    assert trusted["trusted"] == str(node2.host_key) and trusted["changed"] is True


def test_remove_needs_confirmation(cli: Cli, sshds: SshdLab) -> None:
    node = sshds.hosts[0]
    assert (
        cli(
            *add_args(node, sshds.client_key.path, "t", "--fingerprint", node.host_key.fingerprint)
        ).code
        == 0
    )
    ran = cli("server", "remove", "node1", "--cluster", "t")
    assert ran.code == 2 and "--yes" in ran.stderr
    assert len(inventory(cli)) == 1
    assert cli("server", "remove", "node1", "--cluster", "t", "--yes").code == 0
    assert inventory(cli) == []


def test_add_and_remove_are_audited_under_the_cli_user(
    cli: Cli, sshds: SshdLab, tmp_path: Path
) -> None:
    node = sshds.hosts[0]
    trust = ["--fingerprint", node.host_key.fingerprint]
    assert cli(*add_args(node, sshds.client_key.path, "t", *trust)).code == 0
    assert cli("server", "remove", "node1", "--cluster", "t", "--yes").code == 0
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        rows = conn.execute(
            "SELECT action, target, result, detail FROM audit WHERE actor = ? ORDER BY id",
            (f"cli:{getpass.getuser()}",),
        ).fetchall()
    assert [row[:3] for row in rows] == [
        ("server.add", "t/node1", "ok"),
        ("server.remove", "t/node1", "ok"),
    ]
    added = json.loads(rows[0][3])
    assert added["address"] == node.target.address and added["port"] == node.target.port
    assert added["host_keys"] == [node.host_key.fingerprint]
    assert "PRIVATE KEY" not in rows[0][3]
