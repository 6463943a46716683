"""The cache chain's configuration files (pure): Redis, stunnel, twemproxy.

Every port comes from :mod:`clustermgr.topology`; every TLS hop presents the
host's own certificate and verifies its peer's against the cluster CA
(``verifyChain``), and names the peer it expects (``checkHost``).  Host names
and the password are checked against their allow-lists
(:mod:`clustermgr.validation`) before they are written.
"""

from __future__ import annotations

from collections.abc import Iterable

from clustermgr import topology
from clustermgr.components.cache.model import (
    LOCALHOST,
    NUTCRACKER_YML,
    POOL,
    SERVER_RETRY_TIMEOUT_MS,
    STATS_INTERVAL_MS,
    TLS,
    CacheLayout,
    CacheNode,
)
from clustermgr.redact import Secret
from clustermgr.validation import HOSTNAME, checked, checked_secret

HEADER = "# managed by clustermgr: changes here are replaced at the next cache apply\n"


def redis_conf(password: Secret) -> str:
    """Redis bound to localhost only, with a password; a cache, so nothing is saved to disk.

    The text holds the password: a sensitive file, its diffs show the password masked.
    """
    text = HEADER + "\n".join(
        (
            "bind 127.0.0.1 -::1",
            "protected-mode yes",
            f"port {topology.REDIS.port}",
            "daemonize yes",
            "pidfile /run/redis/redis-server.pid",
            "loglevel notice",
            f"logfile {topology.REDIS_LOG}",
            "dir /var/lib/redis",
            "databases 16",
            'save ""',
            "appendonly no",
            "maxmemory-policy volatile-lru",
            f"requirepass {checked_secret(password).reveal()}",
            "",
        )
    )
    return text


def _name(node: CacheNode) -> str:
    """The node's short name (stunnel section, twemproxy server), from a checked hostname."""
    checked(HOSTNAME, node.hostname)
    return node.name


def _tls_lines(peers: Iterable[str]) -> list[str]:
    lines = [
        f"cert = {TLS.cert_file}",
        f"key = {TLS.key_file}",
        f"CAfile = {TLS.ca_file}",
        "verifyChain = yes",
        "sslVersionMin = TLSv1.2",
    ]
    return lines + [f"checkHost = {checked(HOSTNAME, peer)}" for peer in peers]


def _stunnel(name: str, services: list[list[str]]) -> str:
    head = [
        f"pid = {topology.stunnel_pidfile(name)}",
        f"output = {topology.stunnel_log(name)}",
        "foreground = no",
        "",
    ]
    body = [line for service in services for line in [*service, ""]]
    return HEADER.replace("#", ";", 1) + "\n".join(head + body)


def node_server_conf(layout: CacheLayout) -> str:
    """On an identity node: TLS on 7777 to its Redis; only the proxy's certificate is accepted."""
    service = [
        "[redis]",
        f"accept = {topology.STUNNEL_NODE.port}",
        f"connect = {LOCALHOST}:{topology.REDIS.port}",
        *_tls_lines([layout.proxy]),
    ]
    return _stunnel(topology.STUNNEL_NODE_SERVER, [service])


def node_client_conf(layout: CacheLayout) -> str:
    """On an identity node: 127.0.0.1:7000 to the proxy's stunnel server."""
    service = [
        "[cache]",
        "client = yes",
        f"accept = {LOCALHOST}:{topology.STUNNEL_CACHE_CLIENT.port}",
        f"connect = {checked(HOSTNAME, layout.proxy)}:{topology.STUNNEL_PROXY.port}",
        *_tls_lines([layout.proxy]),
    ]
    return _stunnel(topology.STUNNEL_NODE_CLIENT, [service])


def proxy_client_service(node: CacheNode) -> list[str]:
    hostname = checked(HOSTNAME, node.hostname)
    return [
        f"[{_name(node)}]",
        "client = yes",
        f"accept = {LOCALHOST}:{node.tunnel_port}",
        f"connect = {hostname}:{topology.STUNNEL_NODE.port}",
        *_tls_lines([node.hostname]),
    ]


def proxy_clients_conf(layout: CacheLayout) -> str:
    """On the proxy: one client per identity node, on the port the numbering rule gives it."""
    return _stunnel(topology.STUNNEL_PROXY_CLIENTS, [proxy_client_service(n) for n in layout.nodes])


def proxy_server_conf(layout: CacheLayout) -> str:
    """On the proxy: TLS on 8888 to twemproxy; only identity nodes' certificates are accepted."""
    service = [
        "[twemproxy]",
        f"accept = {topology.STUNNEL_PROXY.port}",
        # The standby answers only while twemproxy restarts; ``prio``: the first when up.
        f"connect = {LOCALHOST}:{topology.TWEMPROXY.port}",
        f"connect = {LOCALHOST}:{topology.TWEMPROXY_STANDBY.port}",
        "failover = prio",
        *_tls_lines(n.hostname for n in layout.nodes),
    ]
    return _stunnel(topology.STUNNEL_PROXY_SERVER, [service])


def nutcracker_yml(layout: CacheLayout) -> str:
    """twemproxy's pool: every node through its local tunnel, ketama, hosts ejected on failure.

    ``redis_auth`` makes clients authenticate with the cluster's Redis password,
    and twemproxy sends the same password to every Redis.
    """
    servers = [f"   - {LOCALHOST}:{n.tunnel_port}:1 {_name(n)}" for n in layout.nodes]
    text = HEADER + "\n".join(
        (
            f"{POOL}:",
            f"  listen: {LOCALHOST}:{topology.TWEMPROXY.port}",
            "  hash: fnv1a_64",
            "  distribution: ketama",
            "  redis: true",
            f"  redis_auth: {checked_secret(layout.password).reveal()}",
            "  auto_eject_hosts: true",
            f"  server_retry_timeout: {SERVER_RETRY_TIMEOUT_MS}",
            "  server_failure_limit: 1",
            "  timeout: 1000",
            "  servers:",
            *servers,
            "",
        )
    )
    return text


def nutcracker_defaults() -> str:
    """The init script's options: stats on localhost only, aggregated every second."""
    opts = (
        f"-c {NUTCRACKER_YML} -a {LOCALHOST} -s {topology.TWEMPROXY_STATS.port}"
        f" -i {STATS_INTERVAL_MS} -o {topology.NUTCRACKER_LOG}"
    )
    return HEADER + f'DAEMON_OPTS="{opts}"\n'
