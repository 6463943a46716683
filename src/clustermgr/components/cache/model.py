"""The cache chain's names, paths and desired layout: one place for each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clustermgr import topology
from clustermgr.pki.nodetls import NodeTls
from clustermgr.redact import Secret

REDIS_CONF = "/etc/redis/redis.conf"
STUNNEL_DIR = "/etc/stunnel"
#: On each identity node: TLS on 7777 in front of its Redis.
NODE_SERVER_CONF = f"{STUNNEL_DIR}/{topology.STUNNEL_NODE_SERVER}.conf"
#: On each identity node: 127.0.0.1:7000 to the proxy's 8888.
NODE_CLIENT_CONF = f"{STUNNEL_DIR}/{topology.STUNNEL_NODE_CLIENT}.conf"
#: On the proxy: one client service per identity node.
PROXY_CLIENTS_CONF = f"{STUNNEL_DIR}/{topology.STUNNEL_PROXY_CLIENTS}.conf"
#: On the proxy: TLS on 8888 in front of twemproxy.  Its own service runs it with its
#: listener held across reloads (:mod:`.held`), so it lives outside the directory whose
#: ``*.conf`` files Debian's stunnel4 service starts.
PROXY_SERVER_CONF = f"{STUNNEL_DIR}/held/{topology.STUNNEL_PROXY_SERVER}.conf"
#: Where the proxy's TLS server was configured before it had its own service.
EARLIER_PROXY_SERVER_CONF = f"{STUNNEL_DIR}/{topology.STUNNEL_PROXY_SERVER}.conf"
#: The service (an init script) of the proxy's TLS server, named as its stunnel instance.
PROXY_SERVER_SERVICE = topology.STUNNEL_PROXY_SERVER
NUTCRACKER_YML = "/etc/nutcracker/nutcracker.yml"
NUTCRACKER_DEFAULTS = "/etc/default/nutcracker"
#: twemproxy's pool name (its stats report servers under it).
POOL = "gluu"
LOCALHOST = "127.0.0.1"
#: stunnel's certificates and the host's own key (made on the host).
TLS = NodeTls(f"{STUNNEL_DIR}/tls", "root:root")
#: The Redis password, sealed in the inventory like the replicator's.
REDIS_SECRET = topology.REDIS_SECRET
#: twemproxy's stats are aggregated this often (ms): status and the watcher read them.
STATS_INTERVAL_MS = 1000
#: How long twemproxy leaves an ejected server out before trying it again (ms).
SERVER_RETRY_TIMEOUT_MS = 2000


class Provider(StrEnum):
    """Where the identity servers keep sessions (oxCacheConfiguration's cacheProviderType)."""

    REDIS = "REDIS"
    NATIVE_PERSISTENCE = "NATIVE_PERSISTENCE"


@dataclass(frozen=True)
class CacheNode:
    hostname: str
    #: 1-based, in inventory order: numbers the proxy's local tunnel port.
    number: int

    @property
    def name(self) -> str:
        """The node's name in nutcracker.yml and in the proxy's stunnel sections."""
        return self.hostname.split(".", 1)[0]

    @property
    def tunnel_port(self) -> int:
        return topology.proxy_tunnel_port(self.number)


@dataclass(frozen=True)
class CacheLayout:
    """The desired cache chain of one cluster."""

    nodes: tuple[CacheNode, ...]
    proxy: str
    password: Secret
    provider: Provider = Provider.REDIS

    @property
    def hosts(self) -> list[str]:
        return [*(n.hostname for n in self.nodes), self.proxy]

    def node(self, hostname: str) -> CacheNode:
        for node in self.nodes:
            if node.hostname == hostname:
                return node
        raise KeyError(hostname)


def layout(
    identity: list[str], proxy: str, password: Secret, provider: Provider = Provider.REDIS
) -> CacheLayout:
    nodes = tuple(CacheNode(h, i) for i, h in enumerate(identity, start=1))
    return CacheLayout(nodes, proxy, password, provider)
