"""The cache chain's files: one port rule, localhost-only Redis, verified TLS, valid YAML."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clustermgr import topology
from clustermgr.components.cache import render
from clustermgr.components.cache.model import CacheLayout, layout
from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret

PASSWORD = Secret("pw-for-the-render-tests", label="test")


def twelve() -> CacheLayout:
    nodes = [f"idp{i}.example.org" for i in range(1, 13)]
    return layout(nodes, "proxy1.example.org", PASSWORD)


def test_one_numbering_rule_for_the_proxys_tunnels() -> None:
    assert [topology.proxy_tunnel_port(i) for i in (1, 2, 10, 12)] == [7001, 7002, 7010, 7012]
    with pytest.raises(ValueError, match="numbered from 1"):
        topology.proxy_tunnel_port(0)
    chain = twelve()
    yml_ports = re.findall(r"127\.0\.0\.1:(\d+):1 (\S+)", render.nutcracker_yml(chain))
    stunnel = render.proxy_clients_conf(chain)
    tunnel_ports = re.findall(r"\[(\S+)\]\nclient = yes\naccept = 127\.0\.0\.1:(\d+)", stunnel)
    assert [(name, port) for port, name in yml_ports] == tunnel_ports
    assert len(set(tunnel_ports)) == 12


def test_redis_listens_on_localhost_with_a_password() -> None:
    conf = render.redis_conf(PASSWORD)
    assert "\nbind 127.0.0.1 -::1\n" in conf
    assert f"\nrequirepass {PASSWORD.reveal()}\n" in conf
    assert "\nport 6379\n" in conf


def test_every_tls_hop_verifies_its_peer() -> None:
    chain = twelve()
    for conf, peers in (
        (render.node_server_conf(chain), ["proxy1.example.org"]),
        (render.node_client_conf(chain), ["proxy1.example.org"]),
        (render.proxy_server_conf(chain), [n.hostname for n in chain.nodes]),
    ):
        assert "verifyChain = yes" in conf
        assert re.findall(r"checkHost = (\S+)", conf) == peers
        assert "CAfile = /etc/stunnel/tls/ca.pem" in conf
    clients = render.proxy_clients_conf(chain)
    assert clients.count("verifyChain = yes") == 12
    assert "connect = idp12.example.org:7777" in clients
    assert "checkHost = idp12.example.org" in clients
    assert "accept = 127.0.0.1:7000" in render.node_client_conf(chain)
    assert "connect = proxy1.example.org:8888" in render.node_client_conf(chain)


def test_each_stunnel_file_has_its_own_pid() -> None:
    chain = twelve()
    confs = [
        render.node_server_conf(chain),
        render.node_client_conf(chain),
        render.proxy_clients_conf(chain),
        render.proxy_server_conf(chain),
    ]
    pids = [re.findall(r"^pid = (\S+)$", c, re.M) for c in confs]
    assert all(len(p) == 1 for p in pids)
    assert len({p[0] for p in pids}) == 4


def test_twemproxy_stats_on_localhost_only() -> None:
    assert "-a 127.0.0.1 -s 22222" in render.nutcracker_defaults()


@pytest.mark.skipif(shutil.which("nutcracker") is None, reason="needs nutcracker")
def test_nutcracker_accepts_the_rendered_file(tmp_path: Path) -> None:
    path = tmp_path / "nutcracker.yml"
    path.write_text(render.nutcracker_yml(twelve()))
    done = subprocess.run(["nutcracker", "-t", "-c", str(path)], capture_output=True)
    assert done.returncode == 0, done.stderr
    path.write_text(render.nutcracker_yml(twelve()).replace("  listen:", "  listen"))
    assert subprocess.run(["nutcracker", "-t", "-c", str(path)], capture_output=True).returncode


BAD_HOSTNAMES = ("idp1.example.org\nconnect = 203.0.113.9:6379", "idp1.example.org]\n[evil", "a b")


@pytest.mark.parametrize("hostname", BAD_HOSTNAMES)
def test_hostnames_that_bypassed_the_inventory_checks_are_refused(hostname: str) -> None:
    bad_node = layout([hostname], "proxy1.example.org", PASSWORD)
    for conf in (render.proxy_clients_conf, render.proxy_server_conf, render.nutcracker_yml):
        with pytest.raises(InvalidInput, match="refusing to write to a server"):
            conf(bad_node)
    bad_proxy = layout(["idp1.example.org"], hostname, PASSWORD)
    for conf in (render.node_server_conf, render.node_client_conf):
        with pytest.raises(InvalidInput, match="refusing to write to a server"):
            conf(bad_proxy)


def test_a_password_redis_cannot_carry_is_refused_and_never_shown() -> None:
    bad = Secret("pw\nslaveof 203.0.113.9 6379", label="test")
    with pytest.raises(InvalidInput) as refused:
        render.redis_conf(bad)
    assert "slaveof" not in str(refused.value)
    with pytest.raises(InvalidInput):
        render.nutcracker_yml(layout(["idp1.example.org"], "proxy1.example.org", bad))
