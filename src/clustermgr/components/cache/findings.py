"""What a cache check found, and what the watcher does about it (pure).

From one reading of the chain (:class:`CacheStatus`): findings that open
alerts, and repairs the watcher runs at once.  A repair is itself reported as a
finding (``repair:...``, a warning): it opens an alert episode that resolves
at the next cycle, so every action the watcher took stays in the alerts'
history.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.components.cache import status as cs
from clustermgr.components.cache.model import PROXY_SERVER_SERVICE, CacheLayout
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Measure

COMPONENT = "cache"
#: Redis's ``used_memory`` on each node, in bytes.
MEMORY_METRIC = "redis_used_memory"
#: Cycles a server must stay ejected while its Redis answers through the tunnel
#: before twemproxy is restarted to take it back.
STALE_EJECTION_CYCLES = 2


RESTART_STUNNEL = "stunnel4"
#: The proxy's TLS server has a service of its own (:mod:`.held`).
RESTART_PROXY_TLS = PROXY_SERVER_SERVICE
RESTART_TWEMPROXY = "nutcracker"


@dataclass(frozen=True)
class Action:
    host: str
    service: str
    #: Why, in words (hostnames only).
    why: str

    @property
    def key(self) -> str:
        return f"repair:{self.service}:{self.host.split('.', 1)[0]}"


@dataclass(frozen=True)
class Verdict:
    findings: list[Finding]
    actions: list[Action]
    measures: list[Measure]
    #: node name -> consecutive cycles it was seen ejected though healthy
    stale: dict[str, int]


def _down(hops: list[cs.Hop], what: str) -> cs.Hop | None:
    return next((h for h in hops if h.what == what and not h.up), None)


def judge(status: cs.CacheStatus, layout: CacheLayout, stale: dict[str, int]) -> Verdict:
    findings: list[Finding] = []
    actions: list[Action] = []
    measures: list[Measure] = []
    proxy_name = layout.proxy.split(".", 1)[0]
    twemproxy = _down(status.proxy_hops, cs.TWEMPROXY)
    if twemproxy is not None and twemproxy.not_listening:
        actions.append(Action(layout.proxy, RESTART_TWEMPROXY, "twemproxy was not running"))
    elif twemproxy is not None:
        findings.append(
            Finding(f"host:{proxy_name}", Severity.CRITICAL, f"{proxy_name}: {twemproxy.detail}")
        )
    proxy_tls = _down(status.proxy_hops, cs.PROXY_TLS)
    if proxy_tls is not None and proxy_tls.not_listening:
        why = f"stunnel on {proxy_tls.port} was not running"
        actions.append(Action(layout.proxy, RESTART_PROXY_TLS, why))
    next_stale: dict[str, int] = {}
    for node in status.nodes:
        name = node.name
        redis = node.hop(cs.REDIS)
        if redis is not None and not redis.up:
            message = f"{name}: Redis is down ({redis.detail})"
            findings.append(Finding(f"redis:{name}", Severity.CRITICAL, message))
        else:
            used = node.redis.get("used_memory")
            if isinstance(used, int):
                measures.append(Measure(MEMORY_METRIC, node.host, None, float(used)))
        for what in (cs.APP_TUNNEL, cs.NODE_TLS):
            hop = _down(node.hops, what)
            if hop is not None and hop.not_listening:
                actions.append(
                    Action(node.host, RESTART_STUNNEL, f"{what} on {hop.port} was not running")
                )
        tunnel = node.hop(cs.NODE_TUNNEL)
        member = node.hop(cs.POOL_MEMBER)
        if tunnel is not None and not tunnel.up and redis is not None and redis.up:
            findings.append(
                Finding(
                    f"tunnel:{name}",
                    Severity.CRITICAL,
                    f"{name}: the proxy cannot reach its Redis through stunnel ({tunnel.detail})",
                )
            )
        if member is not None and not member.up and tunnel is not None and tunnel.up:
            next_stale[name] = stale.get(name, 0) + 1
            findings.append(
                Finding(
                    f"ejected:{name}",
                    Severity.WARNING,
                    f"{name}: twemproxy keeps it out of the pool though its Redis answers",
                )
            )
            if next_stale[name] >= STALE_EJECTION_CYCLES:
                actions.append(
                    Action(layout.proxy, RESTART_TWEMPROXY, f"{name} was ejected but healthy")
                )
                next_stale[name] = 0
    if status.path is not None and not status.path.get("ok"):
        findings.append(
            Finding("path", Severity.CRITICAL, f"path check failed: {status.path.get('error')}")
        )
    unique = list({(a.host, a.service): a for a in actions}.values())
    findings += [
        Finding(a.key, Severity.WARNING, f"{a.why} on {a.host}: restarted {a.service}")
        for a in unique
    ]
    return Verdict(findings, unique, measures, next_stale)
