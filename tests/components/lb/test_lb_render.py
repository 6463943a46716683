"""The load balancer's NGINX files and its plan (pure)."""

from __future__ import annotations

import re

import pytest

from clustermgr import topology
from clustermgr.components.lb import plan, render
from clustermgr.components.lb.model import Backend, BackendState, Balancer
from clustermgr.components.lb.settings import DEFAULT_LOCATIONS, LbSettings, Upstream
from clustermgr.errors import InvalidInput
from clustermgr.facts.nginx import parse_upstream_members
from clustermgr.pki.nodeweb import NGINX_TLS_INCLUDE, NODE_WEB_TLS


def balancer(*states: BackendState, **kw: object) -> Balancer:
    backends = tuple(
        Backend(f"idp{i}.example.org", f"10.0.0.{10 + i}", 443, state)
        for i, state in enumerate(states, 1)
    )
    options: dict[str, object] = {
        "proxy": "lb.example.org",
        "server_name": "lb.example.org",
        "backends": backends,
        "https_port": 443,
        "http_port": 80,
        "status_port": 8090,
        **kw,
    }
    return Balancer(**options)  # type: ignore[arg-type]


def test_both_upstreams_hold_every_node_and_only_backend_id_hashes() -> None:
    text = render.upstreams(balancer(BackendState.UP, BackendState.UP))
    backend, backend_id = text.split("upstream ")[1:]
    assert backend.startswith("backend {") and "ip_hash" not in backend
    assert backend_id.startswith("backend_id {") and "ip_hash;" in backend_id
    for block in (backend, backend_id):
        assert "server 10.0.0.11:443 max_fails=2 fail_timeout=10s;  # idp1" in block
        assert "server 10.0.0.12:443 max_fails=2" in block


@pytest.mark.parametrize("state", [BackendState.DOWN, BackendState.DRAINED, BackendState.JOINING])
def test_a_node_out_of_rotation_stays_listed_as_down(state: BackendState) -> None:
    text = render.upstreams(balancer(BackendState.UP, state))
    assert text.count(f"server 10.0.0.12:443 down;  # idp2.example.org: {state.value}") == 2


def test_locations_follow_the_chosen_upstream() -> None:
    locations = {**DEFAULT_LOCATIONS, "/casa": Upstream.BACKEND}
    text = render.site(balancer(BackendState.UP, locations=locations))
    assert "location /oxauth {\n        proxy_pass https://backend;" in text
    assert "location /identity {\n        proxy_pass https://backend_id;" in text
    assert "location /casa {\n        proxy_pass https://backend;" in text
    assert "listen 80 default_server;\n    server_name _;\n    access_log " in text
    assert "    return 301 https://$host$request_uri;\n}" in text
    assert "listen 443 ssl default_server;" in text
    assert f"proxy_next_upstream {render.NEXT_UPSTREAM};" in text


def test_stub_status_listens_on_localhost_only() -> None:
    text = render.site(balancer(BackendState.UP))
    status = text.rsplit("server {", 1)[1]
    assert "listen 127.0.0.1:8090;" in status and "stub_status;" in status
    assert "deny all;" in status


def test_unknown_locations_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown locations /scim"):
        LbSettings.model_validate({"locations": {"/scim": "backend"}})
    partial = LbSettings.model_validate({"locations": {"/casa": "backend"}})
    assert partial.locations == {**DEFAULT_LOCATIONS, "/casa": Upstream.BACKEND}


def test_config_is_validated_in_place_and_reloaded_never_restarted() -> None:
    facts = plan.ProxyFacts(family="debian", init="sysv")
    cert = plan.Certificate(b"CA", b"CERT")
    step = plan.plan_configure("c", balancer(BackendState.UP), facts, cert).steps[0]
    site = next(f for f in step.files if f.path.endswith("clustermgr-lb.conf"))
    assert site.validate is not None and site.validate_in_place
    assert str(site.validate(site.path)) == "nginx -t -q"
    commands = " ".join(str(c) for c in step.commands)
    assert "reload" in commands and "restart" not in commands


def test_an_imported_certificate_makes_no_key() -> None:
    facts = plan.ProxyFacts(family="debian", init="systemd")
    titles = [s.title for s in plan.plan_prepare("c", balancer(), facts, make_key=False).steps]
    assert titles == ["install nginx", "remove the default site"]
    with_key = plan.plan_prepare("c", balancer(), facts, make_key=True).steps
    assert with_key[-1].title == "make the HTTPS key"


def test_the_proxy_verifies_each_node_against_the_cluster_ca_and_its_own_name() -> None:
    up = balancer(BackendState.UP, BackendState.DRAINED)
    site = render.site(up)
    for line in (
        "proxy_ssl_verify on;",
        "proxy_ssl_trusted_certificate /etc/nginx/tls/cluster-ca.pem;",
        "proxy_ssl_name $clustermgr_node_name;",
        "proxy_ssl_server_name on;",
    ):
        assert f"    {line}\n" in site, line
    names = render.upstreams(up).split("map $upstream_addr $clustermgr_node_name {\n", 1)[1]
    # The last address NGINX tried names the node; a retry is checked anew (volatile).
    assert names.splitlines()[:4] == [
        "    volatile;",
        '    "~(^|\\s)10\\.0\\.0\\.11:443$" idp1.example.org;',
        '    "~(^|\\s)10\\.0\\.0\\.12:443$" idp2.example.org;',
        f"    default {render.UNKNOWN_NODE};",
    ]
    # The watcher still reads the members from the first upstream.
    assert parse_upstream_members(render.upstreams(up)) == {
        "10.0.0.11:443": True,
        "10.0.0.12:443": False,
    }


@pytest.mark.parametrize(
    ("address", "hostname"),
    [("10.0.0.1;", "idp1"), ("10.0.0.1", "idp1 x"), ("10.0.0.1", 'a"b'), ("1$(id)", "idp1")],
)
def test_a_node_address_or_name_that_is_not_plain_is_refused(address: str, hostname: str) -> None:
    odd = balancer(backends=(Backend(hostname, address, 443),))
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        render.upstreams(odd)


def test_each_identity_node_makes_its_web_key_and_serves_the_issued_certificate() -> None:
    facts = plan.ProxyFacts(family="debian", init="systemd")
    prepare = plan.plan_prepare(
        "c", balancer(BackendState.UP, BackendState.UP), facts, make_key=False
    )
    keys = [s for s in prepare.steps if s.host != "lb.example.org"]
    assert [(s.host, s.title) for s in keys] == [
        ("idp1.example.org", "make the node's TLS key for its web server"),
        ("idp2.example.org", "make the node's TLS key for its web server"),
    ]
    assert NODE_WEB_TLS.key_file in str(keys[0].commands[0].render())
    web = plan.plan_node_web(
        "c", b"CA", {"idp1.example.org": b"CERT"}, {"idp1.example.org": "sysv"}
    )
    (step,) = web.steps
    files = {f.path: f for f in step.files}
    assert files[NODE_WEB_TLS.ca_file].content == b"CA"
    assert files[NODE_WEB_TLS.cert_file].content == b"CERT"
    include = files[NGINX_TLS_INCLUDE]
    assert include.content.decode().splitlines()[1:] == [
        f"ssl_certificate {NODE_WEB_TLS.cert_file};",
        f"ssl_certificate_key {NODE_WEB_TLS.key_file};",
    ]
    assert include.validate is not None and include.validate_in_place
    assert "reload" in " ".join(c.render() for c in step.commands)


def test_an_imported_certificate_still_gets_the_cluster_ca_to_verify_the_nodes() -> None:
    facts = plan.ProxyFacts(family="debian", init="systemd")
    step = plan.plan_configure("c", balancer(BackendState.UP), facts, plan.Certificate(b"CA"))
    paths = [f.path for f in step.steps[0].files]
    assert "/etc/nginx/tls/cluster-ca.pem" in paths and "/etc/nginx/tls/lb.pem" not in paths


@pytest.mark.parametrize("init", ["systemd", "sysv"])
def test_every_service_function_a_command_calls_is_defined_in_it(init: str) -> None:
    facts = plan.ProxyFacts(family="debian", init=init)
    cert = plan.Certificate(b"CA", b"CERT")
    up = balancer(BackendState.UP)
    steps = [
        *plan.plan_prepare("c", up, facts, make_key=True).steps,
        *plan.plan_configure("c", up, facts, cert).steps,
        plan.upstreams_step(up, init),
    ]
    for step in steps:
        for command in (*step.commands, step.check):
            if command is None:
                continue
            text = command.render()
            called = set(re.findall(r"(?<![\w-])(svc(?:_[a-z]+)?)\b(?!\(\))", text))
            defined = set(re.findall(r"(svc(?:_[a-z]+)?)\(\) \{", text))
            assert called <= defined, (step.title, called - defined)
            if called:
                assert ("systemctl" in text) is (init == "systemd"), (step.title, text)


# --- values that bypassed the settings model or the inventory are refused ---------------

INJECTED = "/etc/nginx/tls/lb.pem; } server { listen 9999; access_log /etc/cron.d/x; }"


@pytest.mark.parametrize(
    "options",
    [
        {"cert_file": INJECTED},
        {"key_file": "/etc/nginx/tls/lb.key\nlisten 9999;"},
        {"cert_file": "/etc/$(id).pem"},
        {"server_name": "lb.example.org; listen 9999"},
        {"locations": {"/idp { return 200; } location /x": Upstream.BACKEND}},
        {"locations": {"/../idp": Upstream.BACKEND}},
    ],
)
def test_the_site_refuses_a_value_off_its_allow_list(options: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        render.site(balancer(BackendState.UP, **options))


@pytest.mark.parametrize(
    ("hostname", "address"),
    [
        ("idp1.example.org\nserver 203.0.113.9:443", "10.0.0.11"),
        ("idp1.example.org", "10.0.0.11:443; server 203.0.113.9"),
        ("idp1.example.org", "fe80::1%eth0;}"),
    ],
)
def test_the_upstreams_refuse_a_backend_off_its_allow_list(hostname: str, address: str) -> None:
    bad = Balancer(
        "lb.example.org", "lb.example.org", (Backend(hostname, address, 443),), 443, 80, 1
    )
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        render.upstreams(bad)


def test_an_ipv6_backend_is_bracketed() -> None:
    six = Balancer(
        "lb.example.org", "lb.example.org", (Backend("idp1.x", "2001:db8::1", 443),), 443, 80, 1
    )
    assert "    server [2001:db8::1]:443 max_fails=2" in render.upstreams(six)


def test_every_request_is_logged_once_in_the_format_the_log_parser_reads() -> None:
    text = render.site(balancer(BackendState.UP))
    declared = f"log_format {topology.NGINX_ACCESS_FORMAT_NAME} '{topology.NGINX_ACCESS_FORMAT}';"
    assert text.count(declared) == 1
    # Each server that answers requests logs (set per server, not added at the http level).
    servers = text.split("server {")[1:]
    access_log = f"access_log {topology.NGINX_ACCESS_LOG} {topology.NGINX_ACCESS_FORMAT_NAME};"
    assert [access_log in s for s in servers] == [True, True, False]
    assert "'" not in topology.NGINX_ACCESS_FORMAT  # it is written between single quotes
