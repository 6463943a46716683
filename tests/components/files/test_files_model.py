"""The cluster files' pure parts: digests read back, compared, the plan, the alerts."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from clustermgr.components.files.findings import judge
from clustermgr.components.files.model import (
    Node,
    NodeFile,
    State,
    compare,
    digest_command,
    parse_digests,
    plan_files,
)
from clustermgr.monitor.alerts import Severity
from clustermgr.plan.files import file_diff
from clustermgr.topology import Role, cluster_file

KEY = "/etc/certs/httpd.key"
CERT = "/etc/certs/httpd.crt"
KEYSTORE = "/etc/certs/oxauth-keys.json"
SECRET_JSON = b'{"keys": [{"kid": "k1", "d": "the-private-exponent-of-the-signing-key"}]}'
SEALED = {KEY: b"key", CERT: b"cert", KEYSTORE: SECRET_JSON}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_digests_come_back_in_order_and_odd_output_is_refused(tmp_path: Path) -> None:
    there = tmp_path / "a file"
    there.write_bytes(b"a")
    paths = [str(there), str(tmp_path / "none")]
    command = digest_command(paths)
    assert command.parts[-2:] == tuple(paths)
    body = str(command.parts[2])
    out = subprocess.run(["sh", "-c", body, "sh", *paths], capture_output=True, check=True)
    assert parse_digests(paths, out.stdout.decode()) == [sha(b"a"), None]
    with pytest.raises(ValueError, match="unexpected"):
        parse_digests(paths, f"{sha(b'a')}\n")
    with pytest.raises(ValueError, match="unexpected"):
        parse_digests(paths, "sha256sum: permission denied\n-\n")


def test_a_node_is_compared_file_by_file() -> None:
    specs = [cluster_file(p) for p in SEALED]
    found = compare(SEALED, specs, [sha(b"key"), sha(b"other"), None])
    assert [f.state for f in found] == [State.SAME, State.DIFFERS, State.MISSING]
    assert Node("idp2", found).drifted == found[1:]


def test_the_plan_writes_each_file_under_the_nodes_chroot_and_hides_secrets() -> None:
    plan = plan_files(
        "c",
        SEALED,
        {
            "idp1": (Role.IDENTITY, None),
            "idp2": (Role.IDENTITY, "/opt/gluu-server"),
            "proxy": (Role.PROXY, None),
        },
    )
    assert plan.hosts == ["idp1", "idp2"], "a proxy carries none"
    paths = [(s.host, s.files[0].path) for s in plan.steps]
    assert ("idp1", KEYSTORE) in paths
    assert ("idp2", "/opt/gluu-server" + KEYSTORE) in paths
    keystore = next(s.files[0] for s in plan.steps if s.files[0].path == KEYSTORE)
    assert keystore.sensitive and keystore.mode == 0o600 and keystore.content == SECRET_JSON
    cert = next(s.files[0] for s in plan.steps if s.files[0].path == CERT)
    assert not cert.sensitive and cert.mode == 0o644
    diff = file_diff(keystore, b'{"keys": [{"kid": "k0", "d": "an-older-private-exponent"}]}')
    assert "private-exponent" not in diff.diff and "k1" not in diff.diff


def test_a_drifted_file_opens_its_alert_and_a_silent_node_keeps_its_own() -> None:
    nodes = [
        Node("idp1", (NodeFile(KEY, State.SAME, sha(b"key")),)),
        Node(
            "idp2",
            (NodeFile(KEY, State.DIFFERS, sha(b"x")), NodeFile(CERT, State.MISSING, None)),
        ),
        Node("idp3", error="connection refused"),
    ]
    verdict = judge(nodes, [KEY, CERT])
    keys = [f.key for f in verdict.findings]
    assert keys == [f"file-drift:idp2:{KEY}", f"file-drift:idp2:{CERT}"]
    assert all(f.severity is Severity.CRITICAL for f in verdict.findings)
    assert "differs" in verdict.findings[0].message and "missing" in verdict.findings[1].message
    assert "key" not in verdict.findings[0].details.removeprefix("found sha256 ")
    assert verdict.unknown == (f"file-drift:idp3:{KEY}", f"file-drift:idp3:{CERT}")
