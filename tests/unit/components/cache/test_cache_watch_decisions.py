"""What the cache watcher does about what it reads (pure)."""

from __future__ import annotations

from clustermgr.components.cache import status as cs
from clustermgr.components.cache.findings import STALE_EJECTION_CYCLES, judge
from clustermgr.components.cache.model import layout
from clustermgr.redact import Secret

NODES = ["idp1.example.org", "idp2.example.org"]
PROXY = "proxy1.example.org"
CHAIN = layout(NODES, PROXY, Secret("x" * 8))
NOT_LISTENING = "nothing listens on 2222"


def reading(
    *, down: dict[tuple[str, str], str] | None = None, path_ok: bool = True
) -> cs.CacheStatus:
    down = down or {}

    def hop(host: str, what: str) -> cs.Hop:
        detail = down.get((host.split(".")[0], what))
        return cs.Hop(host, what, detail is None, detail or "")

    proxy_hops = [hop(PROXY, w) for w in (cs.PROXY_TLS, cs.TWEMPROXY, cs.TWEMPROXY_STATS)]
    nodes = []
    for host in NODES:
        chain = cs.NodeChain(host, host.split(".")[0], redis={"used_memory": 100})
        chain.hops = [
            hop(host, cs.APP_TUNNEL),
            *proxy_hops[:2],
            hop(PROXY, cs.POOL_MEMBER)
            if (host[:4], cs.POOL_MEMBER) not in down
            else cs.Hop(PROXY, cs.POOL_MEMBER, False, "ejected"),
            hop(PROXY, cs.NODE_TUNNEL)
            if (host[:4], cs.NODE_TUNNEL) not in down
            else cs.Hop(PROXY, cs.NODE_TUNNEL, False, "refused"),
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
    down = {
        ("idp1", cs.APP_TUNNEL): "nothing listens on 7000",
        ("idp1", cs.NODE_TLS): "nothing listens on 7777",
    }
    verdict = judge(reading(down=down), CHAIN, {})
    assert [(a.host, a.service) for a in verdict.actions] == [(NODES[0], "stunnel4")]


def test_a_stopped_redis_is_an_alert_not_a_restart() -> None:
    down = {("idp2", cs.REDIS): "Connection refused", ("idp2", cs.NODE_TUNNEL): "closed"}
    verdict = judge(reading(down=down), CHAIN, {})
    assert verdict.actions == []
    assert [f.key for f in verdict.findings] == ["redis:idp2"]


def test_a_healthy_server_kept_ejected_restarts_twemproxy_after_a_few_cycles() -> None:
    down = {("idp2", cs.POOL_MEMBER): "ejected"}
    stale: dict[str, int] = {}
    for _ in range(STALE_EJECTION_CYCLES - 1):
        verdict = judge(reading(down=down), CHAIN, stale)
        assert verdict.actions == []
        assert "ejected:idp2" in [f.key for f in verdict.findings]
        stale = verdict.stale
    verdict = judge(reading(down=down), CHAIN, stale)
    assert [(a.host, a.service) for a in verdict.actions] == [(PROXY, "nutcracker")]
    assert judge(reading(), CHAIN, verdict.stale).stale == {}
