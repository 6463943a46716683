"""``clustermgr cluster plan|apply`` over real SSH, and secrets kept out of every output.

The loopback sshd servers share this machine's filesystem, so the cluster
manages a hosts file in a temporary folder (a per-cluster setting) instead of
the real /etc/hosts.
"""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from cli_runner import Cli, add_args
from sshd import SshdLab, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def create_cluster(cli: Cli, sshds: SshdLab, hosts_file: Path, nodes: int = 2) -> None:
    assert cli("cluster", "create", "t", "--hosts-file", str(hosts_file)).code == 0
    for node in sshds.hosts[:nodes]:
        ran = cli(
            *add_args(node, sshds.client_key.path, "t", "--fingerprint", node.host_key.fingerprint)
        )
        assert ran.code == 0, ran.stderr


def outcomes(report: dict[str, object]) -> dict[tuple[str, str], str]:
    hosts = report["hosts"]
    assert isinstance(hosts, dict)
    return {(h, r["title"]): r["outcome"] for h, rs in hosts.items() for r in rs}


def test_plan_then_apply_twice(cli: Cli, sshds: SshdLab, tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("127.0.0.1\tlocalhost\n")
    create_cluster(cli, sshds, hosts_file)

    ran = cli("cluster", "plan", "t", "--json")
    assert ran.code == 0, ran.stderr
    plan = ran.json()
    assert plan["dry_run"] is True
    assert outcomes(plan)[("node1", f"write {hosts_file}")] == "would change"
    assert outcomes(plan)[("node1", "install base packages")] == "unchanged"
    (write,) = [r for r in plan["hosts"]["node1"] if r["title"].startswith("write")]
    assert "+127.0.0.1\tnode1" in write["diffs"][0]["diff"]
    assert hosts_file.read_text() == "127.0.0.1\tlocalhost\n", "plan changes nothing"

    ran = cli("cluster", "apply", "t")
    assert ran.code == 2 and "confirm with --yes" in ran.stderr
    # The preview is the question's context, not a result.
    assert "would change" in ran.stderr and ran.stdout == ""
    assert hosts_file.read_text() == "127.0.0.1\tlocalhost\n"

    first = cli("cluster", "apply", "t", "--yes", "--json")
    assert first.code == 0, first.stderr
    assert first.json()["counts"]["failed"] == 0
    assert "changed" in outcomes(first.json()).values()
    assert hosts_file.read_text() == (
        "127.0.0.1\tlocalhost\n"
        "# BEGIN clustermgr cluster t\n127.0.0.1\tnode1\n127.0.0.1\tnode2\n"
        "# END clustermgr cluster t\n"
    )
    second = cli("cluster", "apply", "t", "--yes", "--json")
    assert second.code == 0
    assert set(outcomes(second.json()).values()) == {"unchanged"}
    assert second.json()["counts"]["unchanged"] == 4
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        trail = conn.execute(
            "SELECT actor, action, target, result FROM audit ORDER BY id"
        ).fetchall()
    me = f"cli:{getpass.getuser()}"
    # Each server added leaves one entry; the plan, and the apply nobody confirmed, leave
    # none; each apply leaves one.
    assert trail == [
        (me, "server.add", "t/node1", "ok"),
        (me, "server.add", "t/node2", "ok"),
        (me, "base.apply", "t", "ok"),
        (me, "base.apply", "t", "ok"),
    ]


def test_human_output_results_on_stdout_progress_on_stderr(
    cli: Cli, sshds: SshdLab, tmp_path: Path
) -> None:
    create_cluster(cli, sshds, tmp_path / "hosts")
    listed = cli("cluster", "list")
    assert listed.code == 0, listed.stderr
    assert listed.stdout.splitlines() == ["CLUSTER  SERVERS", "t        2"]

    ran = cli("cluster", "plan", "t")
    assert ran.code == 0, ran.stderr
    result = ran.stdout.splitlines()
    assert "node1" in result and "node2" in result
    assert [line for line in result if f"write {tmp_path / 'hosts'}" in line], ran.stdout
    assert "…" not in ran.stdout, "progress stays off stdout"
    assert "gathering facts from 2 servers" in ran.stderr
    assert "node1 … install base packages" in ran.stderr

    ran = cli("cluster", "apply", "t", "--yes")
    assert ran.code == 0, ran.stderr
    assert "changed" in ran.stdout and "…" in ran.stderr
    again = cli("cluster", "apply", "t")
    assert (again.code, again.stdout) == (0, "nothing to change\n")


def test_profile_shows_where_the_time_went_after_the_result(
    cli: Cli, sshds: SshdLab, tmp_path: Path
) -> None:
    create_cluster(cli, sshds, tmp_path / "hosts")
    plain = cli("cluster", "plan", "t")
    ran = cli("cluster", "apply", "t", "--yes", "--profile")
    assert ran.code == 0, ran.stderr
    assert "where the time went" not in plain.stdout, "only when asked"
    result = ran.stdout.splitlines()
    start = result.index("where the time went")
    assert any("changed" in line for line in result[:start]), "the report comes first"
    profile = result[start:]
    assert profile[1].startswith("  steps: ") and "round trips in" in profile[1]
    slowest = profile.index("slowest steps")
    assert profile[slowest + 1].split() == ["TIME", "HOST", "STEP", "OUTCOME"]
    hosts = profile.index("hosts")
    assert profile[hosts + 1].split() == [
        "HOST",
        "STEPS",
        "TURN",
        "WAIT",
        "ROUND",
        "TRIPS",
        "SSH",
        "CONNECT",
    ]
    assert sorted(line.split()[0] for line in profile[hosts + 2 :]) == ["node1", "node2"]
    assert "where the time went" not in ran.stderr, "a result: stdout"

    data = cli("cluster", "plan", "t", "--json", "--profile")
    assert data.code == 0, data.stderr
    timing = data.json()["timing"]
    assert set(timing["hosts"]) == {"node1", "node2"} and timing["ssh"]["round_trips"] > 0


def test_unreachable_member_fails_alone(cli: Cli, sshds: SshdLab, tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts"
    create_cluster(cli, sshds, hosts_file, nodes=1)
    # Register a second member, then take it away: its port now refuses connections.
    ghost = sshds.hosts[1]
    assert (
        cli(
            *add_args(
                ghost, sshds.client_key.path, "t", "--fingerprint", ghost.host_key.fingerprint
            )
        ).code
        == 0
    )
    with sqlite3.connect(tmp_path / "data" / "clustermgr.db") as conn:
        conn.execute("UPDATE servers SET ssh_port = ? WHERE hostname = 'node2'", (free_port(),))
    ran = cli("cluster", "apply", "t", "--yes", "--json")
    assert ran.code == 1
    report = ran.json()
    assert outcomes(report)[("node2", "gather facts")] == "failed"
    (failure,) = report["hosts"]["node2"]
    assert "cannot connect to 127.0.0.1:" in failure["reason"]
    assert outcomes(report)[("node1", f"write {hosts_file}")] == "changed"
    assert "127.0.0.1\tnode1" in hosts_file.read_text()


def test_no_secret_in_any_output(cli: Cli, sshds: SshdLab, tmp_path: Path) -> None:
    """A passphrase-protected key used through every command: its secrets appear nowhere."""
    key = sshds.encrypted_key
    passphrase = key.passphrase or ""
    secret_lines = [line for line in key.private.splitlines() if "-----" not in line]
    hosts_file = tmp_path / "hosts"
    assert cli("cluster", "create", "t", "--hosts-file", str(hosts_file)).code == 0
    for node in sshds.hosts:
        ran = cli(
            *add_args(
                node,
                key.path,
                "t",
                "--fingerprint",
                node.host_key.fingerprint,
                "--passphrase-env",
                "PP",
            ),
            PP=passphrase,
        )
        assert ran.code == 0, ran.stderr
    cli(*add_args(sshds.hosts[0], key.path, "t", "--passphrase-env", "PP"), PP="wrong" + passphrase)
    for args in (
        ("server", "list", "--json"),
        ("server", "check", "--cluster", "t"),
        ("server", "check", "--cluster", "t", "--json"),
        ("cluster", "plan", "t"),
        ("cluster", "apply", "t", "--yes"),
        ("cluster", "apply", "t", "--yes", "--json"),
        ("db", "status"),
    ):
        cli(*args)
    everything = "\n".join(cli.transcript)
    assert "node3" in everything, "the transcript holds real output"
    assert passphrase not in everything
    for line in secret_lines:
        assert line not in everything
    raw_db = b"".join(f.read_bytes() for f in (tmp_path / "data").glob("clustermgr.db*"))
    assert b"node3" in raw_db, "the database files hold the inventory"
    assert passphrase.encode() not in raw_db
    assert all(line.encode() not in raw_db for line in secret_lines)


@pytest.mark.parametrize(
    "path", ["/etc/hosts; rm -rf /", "/etc/../root/.ssh/authorized_keys", "hosts", "/etc/ho sts"]
)
def test_a_hosts_file_off_the_allow_list_is_refused(cli: Cli, path: str) -> None:
    ran = cli("cluster", "create", "t", "--hosts-file", path, "--json")
    assert ran.code == 2, ran.stderr
    assert "invalid cluster settings: hosts_file" in ran.json()["message"]
    assert cli("cluster", "list", "--json").json() == []


def test_the_public_hostname_is_shown_set_refused_when_bad_and_reset(cli: Cli) -> None:
    assert cli("cluster", "create", "t").code == 0
    ran = cli("cluster", "public-hostname", "t")
    said = ran.stdout + ran.stderr  # words go to the terminal; --json answers on stdout
    assert ran.code == 0 and "t has no public hostname yet: set one, or add a proxy" in said
    ran = cli("cluster", "public-hostname", "t", "IdP.Example.org")
    assert ran.code == 0, ran.stderr
    said = ran.stdout + ran.stderr
    assert "t: public hostname idp.example.org (set)" in said
    assert "every identity node should serve issuer https://idp.example.org" in said
    ran = cli("cluster", "public-hostname", "t", "idp_1.example.org", "--json")
    assert ran.code == 2
    assert ran.json()["message"].startswith(
        "invalid cluster settings: public_hostname: 'idp_1.example.org' is not a DNS host name"
    )
    ran = cli("cluster", "public-hostname", "t", "--json")
    assert ran.json() == {
        "cluster": "t",
        "public_hostname": "idp.example.org",
        "setting": "idp.example.org",
        "issuer": "https://idp.example.org",
    }
    ran = cli("cluster", "public-hostname", "t", "x.example.org", "--default")
    assert ran.code == 2 and "give either a hostname or --default" in ran.stderr
    ran = cli("cluster", "public-hostname", "t", "--default", "--json")
    assert ran.code == 0 and ran.json()["public_hostname"] is None
    ran = cli("cluster", "create", "u", "--public-hostname", "sso.example.org", "--json")
    assert ran.code == 0 and ran.json()["public_hostname"] == "sso.example.org"
    ran = cli("cluster", "create", "v", "--public-hostname", "10.0.0.1")
    assert ran.code == 2 and "public_hostname" in ran.stderr
