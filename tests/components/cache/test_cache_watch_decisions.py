"""What the cache watcher does about what it reads (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from clustermgr import topology
from clustermgr.components.cache import status as cs
from clustermgr.components.cache.findings import (
    RESTART_TWEMPROXY,
    STALE_EJECTION_CYCLES,
    Action,
    judge,
)
from clustermgr.components.cache.model import layout
from clustermgr.components.cache.watch import restart_command
from clustermgr.facts.services import ServiceControl
from clustermgr.redact import Secret

NODES = ["idp1.example.org", "idp2.example.org"]
PROXY = "proxy1.example.org"
CHAIN = layout(NODES, PROXY, Secret("x" * 8))
NOT_LISTENING = cs.Down.NOT_LISTENING


def reading(
    *, down: dict[tuple[str, str], cs.Down] | None = None, path_ok: bool = True
) -> cs.CacheStatus:
    down = down or {}

    def hop(host: str, what: str) -> cs.Hop:
        reason = down.get((host.split(".")[0], what))
        if reason is None:
            return cs.Hop(host, what, True)
        # The words say nothing the decisions read: only ``reason`` does.
        return cs.Hop(host, what, False, f"{what} is down", reason=reason)

    proxy_hops = [hop(PROXY, w) for w in (cs.PROXY_TLS, cs.TWEMPROXY, cs.TWEMPROXY_STATS)]
    nodes = []
    for host in NODES:
        chain = cs.NodeChain(host, host.split(".")[0], redis={"used_memory": 100})
        chain.hops = [
            hop(host, cs.APP_TUNNEL),
            *proxy_hops[:2],
            hop(PROXY, cs.POOL_MEMBER)
            if (host[:4], cs.POOL_MEMBER) not in down
            else cs.Hop(PROXY, cs.POOL_MEMBER, False, "ejected", reason=cs.Down.FAILED),
            hop(PROXY, cs.NODE_TUNNEL)
            if (host[:4], cs.NODE_TUNNEL) not in down
            else cs.Hop(PROXY, cs.NODE_TUNNEL, False, "refused", reason=cs.Down.FAILED),
            hop(host, cs.NODE_TLS),
            hop(host, cs.REDIS),
        ]
        nodes.append(chain)
    path = {"ok": path_ok, "error": None if path_ok else "missing"}
    return cs.CacheStatus("c", PROXY, nodes, proxy_hops, None, path, [])


def test_a_healthy_chain_needs_nothing() -> None:
    verdict = judge(reading(), CHAIN, {})
    assert verdict.findings == [] and verdict.actions == []
    assert len(verdict.measures) == 2


def test_a_dead_twemproxy_is_restarted_and_reported() -> None:
    verdict = judge(reading(down={("proxy1", cs.TWEMPROXY): NOT_LISTENING}), CHAIN, {})
    assert [(a.host, a.service) for a in verdict.actions] == [(PROXY, "nutcracker")]
    assert [f.key for f in verdict.findings] == ["repair:nutcracker:proxy1"]


def test_a_dead_stunnel_on_a_node_is_restarted_once() -> None:
    down = {("idp1", cs.APP_TUNNEL): NOT_LISTENING, ("idp1", cs.NODE_TLS): NOT_LISTENING}
    verdict = judge(reading(down=down), CHAIN, {})
    assert [(a.host, a.service) for a in verdict.actions] == [(NODES[0], "stunnel4")]


def test_a_dead_tls_server_on_the_proxy_is_restarted_through_its_own_service() -> None:
    verdict = judge(reading(down={("proxy1", cs.PROXY_TLS): NOT_LISTENING}), CHAIN, {})
    assert [(a.host, a.service) for a in verdict.actions] == [(PROXY, "clustermgr-twemproxy")]
    assert [f.key for f in verdict.findings] == ["repair:clustermgr-twemproxy:proxy1"]


def test_a_host_that_could_not_be_probed_is_not_repaired() -> None:
    down = {("proxy1", cs.TWEMPROXY): cs.Down.UNCHECKED, ("idp1", cs.NODE_TLS): cs.Down.UNCHECKED}
    verdict = judge(reading(down=down), CHAIN, {})
    assert verdict.actions == []
    assert "host:proxy1" in [f.key for f in verdict.findings]


def test_hops_carry_their_port_and_why_they_are_down() -> None:
    proxy = {"ports": {str(topology.STUNNEL_PROXY.port): True}}
    node = {"ports": {str(topology.STUNNEL_CACHE_CLIENT.port): True}}
    data: dict[str, dict[str, Any]] = {
        PROXY: proxy,
        NODES[0]: node,
        NODES[1]: {"error": "no route to host"},
    }
    status = cs._assemble("c", CHAIN, data)
    by_what = {h.what: h for h in status.proxy_hops}
    assert by_what[cs.PROXY_TLS].up and by_what[cs.PROXY_TLS].port == topology.STUNNEL_PROXY.port
    twemproxy = by_what[cs.TWEMPROXY]
    assert twemproxy.not_listening and twemproxy.port == topology.TWEMPROXY.port
    first, second = status.nodes
    assert (first.hop(cs.APP_TUNNEL) or cs.Hop("", "", False)).up
    node_tls = first.hop(cs.NODE_TLS)
    assert node_tls is not None and node_tls.reason is cs.Down.NOT_LISTENING
    unreachable = second.hop(cs.APP_TUNNEL)
    assert unreachable is not None and unreachable.reason is cs.Down.UNCHECKED
    assert not unreachable.not_listening
    assert not any(c.isdigit() for h in [*status.proxy_hops, *first.hops] for c in h.what)
    assert first.hops[0].as_dict()["reason"] is None
    assert node_tls.as_dict()["reason"] == "not-listening"


def test_a_stopped_redis_is_an_alert_not_a_restart() -> None:
    down = {("idp2", cs.REDIS): cs.Down.FAILED, ("idp2", cs.NODE_TUNNEL): cs.Down.FAILED}
    verdict = judge(reading(down=down), CHAIN, {})
    assert verdict.actions == []
    assert [f.key for f in verdict.findings] == ["redis:idp2"]


def test_a_healthy_server_kept_ejected_restarts_twemproxy_after_a_few_cycles() -> None:
    down = {("idp2", cs.POOL_MEMBER): cs.Down.FAILED}
    stale: dict[str, int] = {}
    for _ in range(STALE_EJECTION_CYCLES - 1):
        verdict = judge(reading(down=down), CHAIN, stale)
        assert verdict.actions == []
        assert "ejected:idp2" in [f.key for f in verdict.findings]
        stale = verdict.stale
    verdict = judge(reading(down=down), CHAIN, stale)
    assert [(a.host, a.service) for a in verdict.actions] == [(PROXY, "nutcracker")]
    assert judge(reading(), CHAIN, verdict.stale).stale == {}


@pytest.mark.parametrize(("init", "tool"), [("systemd", "systemctl"), ("sysvinit", "service")])
def test_repairs_restart_through_the_hosts_init(init: str, tool: str) -> None:
    services = ServiceControl(init)
    for service in ("stunnel4", RESTART_TWEMPROXY):
        script = restart_command(Action("proxy1", service, "down"), services).render()
        assert "svc_restart() {" in script and tool in script
    checked = restart_command(Action("proxy1", RESTART_TWEMPROXY, "stale"), services).render()
    assert checked.index("nutcracker -t") < checked.index("svc_restart nutcracker")
