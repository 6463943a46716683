"""A node's TLS files and the step that makes its key: one helper for every component."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from clustermgr.components.cache.model import TLS as CACHE_TLS
from clustermgr.components.lb import plan as lb_plan
from clustermgr.components.lb.model import CERT_FILE, KEY_FILE
from clustermgr.components.lb.model import TLS as LB_TLS
from clustermgr.components.ldap.tls import NODE_TLS
from clustermgr.pki import nodetls
from clustermgr.pki.nodetls import NodeTls
from clustermgr.plan.files import file_diff


def test_every_component_names_its_files_through_node_tls() -> None:
    assert NODE_TLS.key_file == "/etc/ldap/tls/node.key"
    assert CACHE_TLS.csr_file.endswith("/tls/node.csr")
    assert (LB_TLS.key_file, LB_TLS.csr_file) == ("/etc/nginx/tls/lb.key", "/etc/nginx/tls/lb.csr")
    assert (LB_TLS.cert_file, LB_TLS.ca_file) == (CERT_FILE, "/etc/nginx/tls/cluster-ca.pem")
    assert LB_TLS.key_file == KEY_FILE


def test_the_load_balancer_key_step_is_the_shared_one_for_its_server_name() -> None:
    step = lb_plan.key_step("proxy1.x", "login.example.org")
    shared = nodetls.key_step("proxy1.x", LB_TLS, name="login.example.org")
    assert step.title == "make the HTTPS key"
    assert step.commands == shared.commands and step.check == shared.check
    args = step.commands[0].parts[4:]
    assert args == (
        "/etc/nginx/tls",
        "/etc/nginx/tls/lb.key",
        "/etc/nginx/tls/lb.csr",
        "login.example.org",
        "root:root",
        "0755",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="the script gives the files to root:root")
def test_the_key_script_makes_a_private_key_and_a_csr(tmp_path: Path) -> None:
    tls = NodeTls(str(tmp_path / "tls"), "root:root", stem="lb", directory_mode="0755")
    command = nodetls.key_step("h.x", tls, name="n.example.org").commands[0]
    subprocess.run(["sh", "-c", command.render()], check=True)
    key, csr = Path(tls.key_file), Path(tls.csr_file)
    assert oct(key.stat().st_mode & 0o777) == "0o600" and csr.stat().st_mode & 0o777 == 0o644
    assert oct((tmp_path / "tls").stat().st_mode & 0o777) == "0o755"
    text = subprocess.run(
        ["openssl", "req", "-in", str(csr), "-noout", "-subject"], capture_output=True, text=True
    ).stdout
    assert "n.example.org" in text


def test_a_certificate_not_signed_yet_says_so_in_plans() -> None:
    ca_file, pending = CACHE_TLS.cert_files(b"", b"")
    assert pending.placeholder == nodetls.PENDING_CERTIFICATE and not ca_file.placeholder
    diff = file_diff(pending, None).diff
    assert diff == f"{CACHE_TLS.cert_file}: {nodetls.PENDING_CERTIFICATE}\n"
    _, signed = CACHE_TLS.cert_files(b"", b"-----BEGIN CERTIFICATE-----\n")
    assert signed.placeholder == ""
