"""The cache chain's status: every hop up or down, twemproxy's view, Redis figures, a path check.

One probe per host, all hosts at once (:mod:`clustermgr.components.cache.probe`);
then the path check: a key written through the first node's 127.0.0.1:7000 is
read back through another's (or through every other node's, ``every_node``).
The watcher reads the same values.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clustermgr import topology
from clustermgr.components.cache.desired import cache_clusters, cache_layout
from clustermgr.components.cache.model import CacheLayout
from clustermgr.components.cache.probe import ProbeRequest, parse_info, redis_figures
from clustermgr.components.cache.stats import PoolView, parse_pool
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput


class Down(StrEnum):
    """Why a hop is down, for the decisions made on it (``detail`` says it in words)."""

    #: The host answered: nothing listens on the hop's port (its service is not running).
    NOT_LISTENING = "not-listening"
    #: The host's probe did not run (SSH, timeout, unreadable output).
    UNCHECKED = "unchecked"
    #: The hop answered wrongly or not at all (a refused tunnel, Redis down, ejected).
    FAILED = "failed"


@dataclass(frozen=True)
class Hop:
    """One link of the chain: ``what`` on ``host`` (at ``port``), up or down, and why not."""

    host: str
    what: str
    up: bool
    detail: str = ""
    #: The port the hop listens on, or for the proxy's tunnel the node's port it
    #: reaches (from :mod:`clustermgr.topology`); None for pool membership.
    port: int | None = None
    #: Why it is down (None while up).
    reason: Down | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "what": self.what,
            "up": self.up,
            "detail": self.detail,
            "port": self.port,
            "reason": self.reason.value if self.reason else None,
        }

    @property
    def label(self) -> str:
        """``what`` for a person, with its port."""
        return self.what if self.port is None else f"{self.what} (:{self.port})"

    @property
    def not_listening(self) -> bool:
        return not self.up and self.reason is Down.NOT_LISTENING


@dataclass
class NodeChain:
    host: str
    name: str
    #: in the order a request travels: app -> ... -> Redis
    hops: list[Hop] = field(default_factory=list)
    redis: dict[str, Any] = field(default_factory=dict)

    @property
    def up(self) -> bool:
        return bool(self.hops) and all(h.up for h in self.hops)

    def hop(self, what: str) -> Hop | None:
        return next((h for h in self.hops if h.what == what), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "name": self.name,
            "up": self.up,
            "state": "ok" if self.up else "broken",
            "hops": [h.as_dict() for h in self.hops],
            "redis": self.redis,
        }


@dataclass
class CacheStatus:
    cluster: str
    proxy: str
    nodes: list[NodeChain]
    proxy_hops: list[Hop]
    pool: PoolView | None
    path: dict[str, Any] | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "proxy": self.proxy,
            "nodes": [n.as_dict() for n in self.nodes],
            "proxy_hops": [h.as_dict() for h in self.proxy_hops],
            "pool": self.pool.as_dict() if self.pool else None,
            "path": self.path,
            "problems": self.problems,
        }


# Hop names, shared with the GUI and the watcher (their ports are the hops' ``port``).
APP_TUNNEL = "stunnel client"
PROXY_TLS = "stunnel server (proxy)"
TWEMPROXY = "twemproxy"
TWEMPROXY_STATS = "twemproxy stats"
POOL_MEMBER = "in twemproxy's pool"
NODE_TUNNEL = "stunnel tunnel"
NODE_TLS = "stunnel server (node)"
REDIS = "redis"
_NODE_HOPS_ON_PROXY = (POOL_MEMBER, NODE_TUNNEL)


async def _probe(
    access: HostAccess, host: str, request: ProbeRequest, timeout: float | None
) -> dict[str, Any]:
    try:
        conn = await access.connection(host)
        result = (await conn.run(request.command(), timeout=timeout)).check()
        data = json.loads(result.stdout)
        return data if isinstance(data, dict) else {"error": "unreadable probe output"}
    except ClustermgrError as exc:
        return {"error": exc.message}
    except ValueError as exc:
        return {"error": f"unreadable probe output: {exc}"}


def _port(data: dict[str, Any], port: int) -> bool:
    ports = data.get("ports")
    return isinstance(ports, dict) and ports.get(str(port)) is True


async def read_chain(
    access: HostAccess,
    cluster: str,
    layout: CacheLayout,
    *,
    path_check: bool = True,
    every_node: bool = False,
    timeout: float | None = None,
) -> CacheStatus:
    """Probe every host of the chain at once; then the path check through two nodes
    (``every_node``: written through the first, read back through each of the others)."""
    key = f"clustermgr:path-check:{secrets.token_hex(6)}"
    value = secrets.token_hex(8)
    first = layout.nodes[0].hostname
    node_ports = (topology.STUNNEL_CACHE_CLIENT.port, topology.STUNNEL_NODE.port)
    requests = {
        n.hostname: ProbeRequest(
            layout.password,
            ports=node_ports,
            redis=True,
            write=(key, value) if path_check and n.hostname == first else None,
        )
        for n in layout.nodes
    }
    proxy_ports = (
        topology.STUNNEL_PROXY.port,
        topology.TWEMPROXY.port,
        topology.TWEMPROXY_STATS.port,
    )
    requests[layout.proxy] = ProbeRequest(
        layout.password,
        ports=proxy_ports,
        stats=True,
        tunnels={n.name: n.tunnel_port for n in layout.nodes},
    )
    hosts = list(requests)
    found = await asyncio.gather(*(_probe(access, h, requests[h], timeout) for h in hosts))
    data = dict(zip(hosts, found, strict=True))
    status = _assemble(cluster, layout, data)
    if path_check:
        readers = [n.hostname for n in layout.nodes[1:]] or [first]
        if not every_node:
            readers = readers[:1]
        status.path = await _path(access, layout, data.get(first, {}), key, readers, timeout)
        if not status.path.get("ok"):
            status.problems.append(f"path check: {status.path.get('error')}")
    return status


async def _path(
    access: HostAccess,
    layout: CacheLayout,
    written: dict[str, Any],
    key: str,
    readers: list[str],
    timeout: float | None,
) -> dict[str, Any]:
    first = layout.nodes[0].hostname
    path: dict[str, Any] = {"written_on": first, "read_on": ", ".join(readers), "ok": False}
    write = written.get("write")
    if not isinstance(write, dict) or not write.get("ok"):
        error = write.get("error") if isinstance(write, dict) else written.get("error")
        return {**path, "error": f"write through {first}: {error}"}
    request = ProbeRequest(layout.password, read=key)
    reads = await asyncio.gather(*(_probe(access, r, request, timeout) for r in readers))
    errors = [_read_error(first, r, read) for r, read in zip(readers, reads, strict=True)]
    if problems := [e for e in errors if e]:
        return {**path, "error": "; ".join(problems)}
    return {**path, "ok": True}


def _read_error(first: str, reader: str, read: dict[str, Any]) -> str:
    """Why the key written through ``first`` was not read back through ``reader`` ("" if it was)."""
    result = read.get("read")
    if not isinstance(result, dict) or not result.get("ok"):
        error = result.get("error") if isinstance(result, dict) else read.get("error")
        return f"read through {reader}: {error}"
    if result.get("value") is None:
        return f"the key written through {first} is missing through {reader}"
    return ""


def _assemble(cluster: str, layout: CacheLayout, data: dict[str, dict[str, Any]]) -> CacheStatus:
    problems: list[str] = []
    proxy = data.get(layout.proxy, {})
    pool: PoolView | None = None
    stats = proxy.get("stats")
    if isinstance(stats, dict) and stats.get("ok") and isinstance(stats.get("value"), dict):
        pool = parse_pool(stats["value"], [n.name for n in layout.nodes])
    proxy_hops = [
        _hop(layout.proxy, PROXY_TLS, proxy, topology.STUNNEL_PROXY.port),
        _hop(layout.proxy, TWEMPROXY, proxy, topology.TWEMPROXY.port),
        _hop(layout.proxy, TWEMPROXY_STATS, proxy, topology.TWEMPROXY_STATS.port),
    ]
    problems += [f"{h.host}: {h.label} is down{_why(h)}" for h in proxy_hops if not h.up]
    nodes = []
    for node in layout.nodes:
        got = data.get(node.hostname, {})
        chain = NodeChain(node.hostname, node.name)
        redis = got.get("redis")
        redis_up = isinstance(redis, dict) and bool(redis.get("ok"))
        if redis_up and isinstance(redis, dict):
            chain.redis = redis_figures(parse_info(str(redis.get("value", ""))))
        tunnel = (proxy.get("tunnels") or {}).get(node.name)
        tunnel_up = isinstance(tunnel, dict) and bool(tunnel.get("ok"))
        view = pool.server(node.name) if pool else None
        in_pool = view is not None and not view.ejected
        chain.hops = [
            _hop(node.hostname, APP_TUNNEL, got, topology.STUNNEL_CACHE_CLIENT.port),
            *proxy_hops[:2],
            _state(layout.proxy, POOL_MEMBER, in_pool, "ejected or unknown", proxy),
            _state(
                layout.proxy,
                NODE_TUNNEL,
                tunnel_up,
                _error(tunnel, proxy),
                proxy,
                topology.STUNNEL_NODE.port,
            ),
            _hop(node.hostname, NODE_TLS, got, topology.STUNNEL_NODE.port),
            _state(node.hostname, REDIS, redis_up, _error(redis, got), got, topology.REDIS.port),
        ]
        # The proxy's own hops are reported once, above.
        own = [h for h in chain.hops if h.host == node.hostname or h.what in _NODE_HOPS_ON_PROXY]
        problems += [f"{node.name}: {h.label} is down{_why(h)}" for h in own if not h.up]
        nodes.append(chain)
    return CacheStatus(cluster, layout.proxy, nodes, proxy_hops, pool, None, problems)


def _hop(host: str, what: str, data: dict[str, Any], port: int) -> Hop:
    """A listener: up when something listens on ``port``."""
    if "error" in data:
        return Hop(host, what, False, str(data["error"]), port, Down.UNCHECKED)
    if _port(data, port):
        return Hop(host, what, True, port=port)
    return Hop(host, what, False, f"nothing listens on {port}", port, Down.NOT_LISTENING)


def _state(
    host: str, what: str, up: bool, why: str, data: dict[str, Any], port: int | None = None
) -> Hop:
    """A hop judged by what it answered (``data``: its host's probe)."""
    if up:
        return Hop(host, what, True, port=port)
    reason = Down.UNCHECKED if "error" in data else Down.FAILED
    return Hop(host, what, False, why, port, reason)


def _error(item: Any, host_data: dict[str, Any]) -> str:
    if isinstance(item, dict):
        return "" if item.get("ok") else str(item.get("error", ""))
    return str(host_data.get("error", "not checked"))


def _why(hop: Hop) -> str:
    return f" ({hop.detail})" if hop.detail else ""


async def status(manager: Manager, cluster_name: str) -> CacheStatus:
    if cluster_name not in await cache_clusters(manager):
        raise InvalidInput(
            f"cluster {cluster_name!r} has no cache set up",
            hint=f"set it up first: clustermgr cache apply {cluster_name}",
        )
    layout = await cache_layout(manager, cluster_name)
    async with await open_access(manager, cluster_name, layout.hosts) as access:
        return await read_chain(access, cluster_name, layout)
