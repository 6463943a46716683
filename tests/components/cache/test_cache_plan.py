"""The cache planner: what goes where, keys never copied, secrets never shown."""

from __future__ import annotations

import json
import re

from clustermgr.components.cache import held, oxconfig, plan, render, stats
from clustermgr.components.cache.model import NUTCRACKER_YML, Provider, layout
from clustermgr.components.cache.probe import parse_info, redis_figures
from clustermgr.facts.services import ServiceControl
from clustermgr.plan.model import Plan
from clustermgr.redact import Secret

PASSWORD = Secret("pw-for-the-plan-tests", label="test")
NODES = ["idp1.example.org", "idp2.example.org"]
PROXY = "proxy1.example.org"


def whole(provider: Provider = Provider.REDIS) -> Plan:
    chain = layout(NODES, PROXY, PASSWORD, provider)
    certs = {h: f"cert of {h}".encode() for h in chain.hosts}
    services = dict.fromkeys(chain.hosts, ServiceControl("sysv"))
    return plan.plan_cache("c", chain, b"the CA", certs, services)


def test_steps_per_host_and_the_identity_servers_left_to_the_cutover() -> None:
    steps = whole().steps
    titles = [(s.host, s.title) for s in steps]
    for node in NODES:
        assert (node, "run Redis on localhost with a password") in titles
        assert (node, "run stunnel for the cache") in titles
    assert (PROXY, "run twemproxy") in titles
    assert (PROXY, "run stunnel for the cache") in titles
    # the chain's plan never points the identity servers at a chain not yet verified
    assert not [s for s in steps if s.title.startswith("set oxCacheConfiguration")]
    chain = layout(NODES, PROXY, PASSWORD)
    switch = plan.plan_cutover("c", chain, NODES[1]).steps
    assert [(s.host, s.title) for s in switch] == [(NODES[1], "set oxCacheConfiguration to REDIS")]


def test_no_private_key_is_written_and_keys_are_made_on_each_host() -> None:
    chain = layout(NODES, PROXY, PASSWORD)
    paths = [f.path for s in whole().steps for f in s.files]
    assert not [p for p in paths if p.endswith(".key")]
    keys = plan.plan_keys("c", chain)
    assert [s.host for s in keys.steps] == [*NODES, PROXY]
    assert all(not s.files for s in keys.steps)


def test_secrets_stay_out_of_commands_and_diffs() -> None:
    for step in whole().steps:
        for command in (*step.commands, step.check, step.verify):
            if command is not None:
                assert PASSWORD.reveal() not in str(command)
        for change in step.files:
            if PASSWORD.reveal().encode() in change.content:
                assert change.sensitive, change.path


def test_nutcracker_yml_is_validated_before_it_is_moved_into_place() -> None:
    change = next(f for s in whole().steps for f in s.files if f.path == NUTCRACKER_YML)
    assert change.validate is not None and not change.validate_in_place
    assert str(change.validate("/tmp/x")) == "nutcracker -t -c /tmp/x"


def test_reverting_to_ldap_changes_only_the_configuration() -> None:
    chain = layout(NODES, PROXY, PASSWORD, Provider.NATIVE_PERSISTENCE)
    steps = plan.plan_cutover("c", chain, NODES[0]).steps
    assert [(s.host, s.title) for s in steps] == [
        (NODES[0], "set oxCacheConfiguration to NATIVE_PERSISTENCE")
    ]
    desired = json.loads(oxconfig.desired(Provider.NATIVE_PERSISTENCE, PASSWORD).reveal())
    assert desired == {"provider": "NATIVE_PERSISTENCE"}


def test_the_identity_servers_are_sent_to_localhost_7000() -> None:
    desired = json.loads(oxconfig.desired(Provider.REDIS, PASSWORD).reveal())
    redis = desired["redis"]
    assert redis["servers"] == "localhost:7000"
    assert redis["redisProviderType"] == "STANDALONE"
    assert redis["password"] == oxconfig.encode_password(PASSWORD) != PASSWORD.reveal()


def test_twemproxy_view_of_its_servers() -> None:
    now = 1_800_000_000
    raw = {
        "timestamp": now,
        "gluu": {
            "server_ejects": 3,
            "idp1": {"server_ejected_at": 0, "server_connections": 1, "requests": 5},
            "idp4": {"server_ejected_at": (now - 1) * 1_000_000, "server_connections": 1},
            "idp2": {"server_ejected_at": (now - 1) * 1_000_000, "server_err": 2},
            "idp3": {"server_ejected_at": (now - 60) * 1_000_000},
        },
    }
    pool = stats.parse_pool(raw, ["idp1", "idp2", "idp3", "idp4", "idp5"])
    assert pool.ejections == 3
    assert [s.ejected for s in pool.servers] == [False, True, False, False, True]
    assert pool.servers[1].errors == 2


def test_redis_figures_from_info() -> None:
    info = parse_info(
        "# Memory\r\nused_memory:1024\r\n# Stats\r\nkeyspace_hits:3\r\nkeyspace_misses:1\r\n"
        "# Keyspace\r\ndb0:keys=5,expires=5,avg_ttl=100\r\ndb1:keys=2,expires=0\r\n"
    )
    assert redis_figures(info) == {
        "used_memory": 1024,
        "hit_rate": 0.75,
        "hits": 3,
        "misses": 1,
        "keys": 7,
    }


def test_every_service_function_a_command_calls_is_defined_in_it() -> None:
    for step in whole().steps:
        for command in (*step.commands, step.check, step.verify, *step.rollback):
            if command is None:
                continue
            text = command.render()
            called = set(re.findall(r"(?<![\w-])(svc(?:_[a-z]+)?)\b(?!\(\))", text))
            defined = set(re.findall(r"(svc(?:_[a-z]+)?)\(\) \{", text))
            assert called <= defined, (step.title, called - defined)


def test_nodes_take_turns_only_once_the_identity_servers_use_the_chain() -> None:
    """Before the cutover nothing depends on Redis and stunnel: every node restarts at
    once.  Once they serve, the nodes restart one after another."""
    chain = layout(NODES, PROXY, PASSWORD)
    certs = {h: b"cert" for h in chain.hosts}
    services = dict.fromkeys(chain.hosts, ServiceControl("sysv"))
    for serving, group in ((True, plan.ROLLING), (False, None)):
        built = plan.plan_cache("c", chain, b"the CA", certs, services, serving=serving)
        on_nodes = [s for s in built.steps if s.host in NODES]
        assert len(on_nodes) == 4 and {s.rolling_group for s in on_nodes} == {group}


def test_the_proxy_stunnel_is_reloaded_so_a_node_joining_or_leaving_drops_no_session() -> None:
    """Every node's sessions pass through the proxy's stunnel: a change of its tunnels or
    of the names its TLS server accepts reloads both (each started when it does not
    run); the server is a service of its own, its listener held across reloads.  The
    nodes' own stunnel and twemproxy are restarted."""
    [proxy] = [
        s for s in whole().steps if (s.host, s.title) == (PROXY, "run stunnel for the cache")
    ]
    scripts = [c.render() for c in proxy.commands]
    reloads = [s for s in scripts if 'if svc_running "$1"; then svc "$1" reload' in s]
    assert [s.rsplit(" ", 1)[-1] for s in reloads] == ["stunnel4", "clustermgr-twemproxy"]
    # the server of an earlier layout (a stunnel4 instance) is retired before the new starts
    retire = next(i for i, s in enumerate(scripts) if "/etc/stunnel/clustermgr-twemproxy.conf" in s)
    assert scripts.index(reloads[0]) < retire < scripts.index(reloads[1])
    paths = {f.path: f for f in proxy.files}
    assert "/etc/stunnel/held/clustermgr-twemproxy.conf" in paths
    assert "/etc/stunnel/clustermgr-twemproxy.conf" not in paths
    assert paths[held.INIT_SCRIPT].mode == paths[held.LAUNCHER].mode == 0o755
    assert proxy.check is not None and "clustermgr-twemproxy" in proxy.check.render()
    node = next(s for s in whole().steps if s.host == NODES[0] and "stunnel" in s.title)
    assert "reload" not in node.commands[-1].render()


def test_twemproxy_restarts_with_a_standby_the_proxy_stunnel_falls_over_to() -> None:
    """A new pool restarts twemproxy: meanwhile a copy of the new configuration answers
    on the standby port, and the proxy's stunnel connects there while the first is down."""
    [step] = [s for s in whole().steps if s.title == "run twemproxy"]
    script = step.commands[-1].render()
    assert "nutcracker -d -c" in script and "svc_restart nutcracker" in script
    assert script.index("nutcracker -d -c") < script.index("svc_restart nutcracker")
    assert "2223" in script and "22223" in script
    conf = render.proxy_server_conf(layout(NODES, PROXY, PASSWORD))
    assert "connect = 127.0.0.1:2222\nconnect = 127.0.0.1:2223\nfailover = prio" in conf
