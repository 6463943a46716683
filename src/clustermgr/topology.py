"""The reference topology's defaults: ports, the daemons expected on them, sizes.

One place for each of these facts.  Components, preflight checks and the lab
read them from here; the inventory may override them per cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

GiB = 1024**3
MiB = 1024**2


class Role(StrEnum):
    IDENTITY = "identity"  # a Gluu Server node: LDAP, oxAuth, Redis, stunnel
    PROXY = "proxy"  # the load balancer: NGINX, twemproxy, stunnel


@dataclass(frozen=True)
class PortUse:
    port: int
    purpose: str
    #: Process names (as ``ss -p`` shows them) allowed to hold the port already.
    expected: frozenset[str]


SSH = PortUse(22, "SSH", frozenset({"sshd"}))
LDAP = PortUse(389, "LDAP", frozenset({"slapd"}))
LDAPS = PortUse(636, "LDAPS", frozenset({"slapd"}))
HTTP = PortUse(80, "HTTP (redirect to HTTPS)", frozenset({"nginx"}))
HTTPS = PortUse(443, "HTTPS", frozenset({"nginx", "apache2", "httpd"}))
REDIS = PortUse(6379, "Redis (localhost only)", frozenset({"redis-server"}))
STUNNEL_NODE = PortUse(7777, "stunnel server for Redis", frozenset({"stunnel4", "stunnel"}))
STUNNEL_CACHE_CLIENT = PortUse(
    7000, "stunnel client to the proxy", frozenset({"stunnel4", "stunnel"})
)
STUNNEL_PROXY = PortUse(8888, "stunnel server for twemproxy", frozenset({"stunnel4", "stunnel"}))
TWEMPROXY = PortUse(2222, "twemproxy", frozenset({"nutcracker"}))
TWEMPROXY_STATS = PortUse(22222, "twemproxy stats", frozenset({"nutcracker"}))
#: A second twemproxy, up only while the first restarts (a new pool), on localhost: the
#: proxy's stunnel falls over to it, so no connection finds no twemproxy.
TWEMPROXY_STANDBY = PortUse(2223, "twemproxy standby", frozenset({"nutcracker"}))
TWEMPROXY_STANDBY_STATS = PortUse(22223, "twemproxy standby stats", frozenset({"nutcracker"}))
#: NGINX's own counters (stub_status) on the proxy, bound to 127.0.0.1 only.
NGINX_STATUS = PortUse(8090, "nginx stub_status (localhost only)", frozenset({"nginx"}))
#: Where NGINX's stub_status answers on that port (the lb renders it, the exporter reads it).
NGINX_STATUS_PATH = "/nginx_status"
# The monitoring exporters, each bound to 127.0.0.1 on its upstream default port; ``ss
# -p`` shows a process's name cut to 15 characters.
NODE_EXPORTER = PortUse(9100, "node exporter (localhost only)", frozenset({"prometheus-node"}))
REDIS_EXPORTER = PortUse(9121, "Redis exporter (localhost only)", frozenset({"prometheus-redi"}))
NGINX_EXPORTER = PortUse(9113, "NGINX exporter (localhost only)", frozenset({"prometheus-ngin"}))
#: Where every exporter serves its metrics (the Prometheus text format).
EXPORTER_METRICS_PATH = "/metrics"
#: The Redis exporter's password file on an identity node (Redis' address -> password).
REDIS_EXPORTER_PASSWORD_FILE = "/etc/prometheus/redis-exporter-password.json"  # noqa: S105 (a path)
#: The name the cluster's Redis password is sealed under in the inventory: the cache
#: makes it at its first apply, the Redis exporter reads it.
REDIS_SECRET = "redis"  # noqa: S105 (a name, not a password)

PORTS_BY_ROLE: Mapping[Role, tuple[PortUse, ...]] = {
    Role.IDENTITY: (
        LDAP,
        LDAPS,
        HTTPS,
        REDIS,
        STUNNEL_NODE,
        STUNNEL_CACHE_CLIENT,
        NODE_EXPORTER,
        REDIS_EXPORTER,
    ),
    Role.PROXY: (
        HTTP,
        HTTPS,
        STUNNEL_PROXY,
        TWEMPROXY,
        TWEMPROXY_STATS,
        NGINX_STATUS,
        NODE_EXPORTER,
        NGINX_EXPORTER,
    ),
}


@dataclass(frozen=True)
class Flow:
    """Members of role ``source`` open TCP connections to members of role ``destination``."""

    source: Role
    destination: Role
    port: PortUse


#: Who connects to whom inside the cluster: LDAP replication between identity nodes,
#: each node's cache client to the proxy's stunnel, the proxy to each node's stunnel
#: and web front.  The manager's SSH to every member comes on top.
FLOWS: tuple[Flow, ...] = (
    Flow(Role.IDENTITY, Role.IDENTITY, LDAP),
    Flow(Role.IDENTITY, Role.IDENTITY, LDAPS),
    Flow(Role.IDENTITY, Role.PROXY, STUNNEL_PROXY),
    Flow(Role.PROXY, Role.IDENTITY, STUNNEL_NODE),
    Flow(Role.PROXY, Role.IDENTITY, HTTPS),
)


@dataclass(frozen=True)
class Sizing:
    """Below ``minimum`` the check fails; below ``recommended`` it warns."""

    minimum: int
    recommended: int


MEMORY_BY_ROLE: Mapping[Role, Sizing] = {
    Role.IDENTITY: Sizing(minimum=2 * GiB, recommended=8 * GiB),
    Role.PROXY: Sizing(minimum=512 * MiB, recommended=2 * GiB),
}
DISK_BY_ROLE: Mapping[Role, Sizing] = {
    Role.IDENTITY: Sizing(minimum=5 * GiB, recommended=40 * GiB),
    Role.PROXY: Sizing(minimum=2 * GiB, recommended=10 * GiB),
}

#: Clock skew between cluster members, in seconds. LDAP multi-provider
#: replication orders changes by timestamp: skewed clocks lose writes.
CLOCK_SKEW_WARN = 0.5
CLOCK_SKEW_FAIL = 2.0

#: The cache chain's ports on their hosts (TOPOLOGY.md, "Cache").
CACHE_TUNNEL_BASE = STUNNEL_CACHE_CLIENT.port


def proxy_tunnel_port(node_number: int) -> int:
    """The proxy's local port of its stunnel client to identity node ``node_number`` (1-based).

    The one numbering rule for these ports: nutcracker.yml and the proxy's stunnel
    configuration both read it from here.
    """
    if node_number < 1:
        raise ValueError("identity nodes are numbered from 1")
    return CACHE_TUNNEL_BASE + node_number


#: Where the identity app answers whether it can serve (TOPOLOGY.md).
HEALTH_CHECK_PATH = "/oxauth/restv1/health-check"
#: Where a Gluu Server node names its directory: there on every installed node.
OX_LDAP_PROPERTIES = "/etc/gluu/conf/ox-ldap.properties"
#: The identity app's OpenID discovery document: its ``issuer`` names the cluster.
DISCOVERY_PATH = "/.well-known/openid-configuration"

# --- logs: where the daemons write them (the components render these, the logs read them)

#: The load balancer's NGINX access log format: its name in ``log_format`` and its text.
#: NGINX's ``combined`` format and three more: the request's time in seconds (millisecond
#: resolution), then the upstreams that answered it (``-`` when none did).
NGINX_ACCESS_FORMAT_NAME = "clustermgr"
NGINX_ACCESS_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'
    ' "$http_referer" "$http_user_agent" $request_time "$upstream_addr"'
)
#: NGINX's own ``combined`` format (the default where a server names none).
NGINX_COMBINED_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'
    ' "$http_referer" "$http_user_agent"'
)
NGINX_ACCESS_LOG = "/var/log/nginx/access.log"
NGINX_ERROR_LOG = "/var/log/nginx/error.log"
REDIS_LOG = "/var/log/redis/redis-server.log"
NUTCRACKER_LOG = "/var/log/nutcracker/nutcracker.log"
STUNNEL_LOG_DIR = "/var/log/stunnel4"
#: The cache chain's stunnel instances, each with its own configuration and log file:
#: on an identity node, the server in front of Redis and the client to the proxy...
STUNNEL_NODE_SERVER = "clustermgr-redis"
STUNNEL_NODE_CLIENT = "clustermgr-cache"
#: ...on the proxy, the clients to the nodes and the server in front of twemproxy.
STUNNEL_PROXY_CLIENTS = "clustermgr-nodes"
STUNNEL_PROXY_SERVER = "clustermgr-twemproxy"


def stunnel_log(instance: str) -> str:
    """The log file of the stunnel instance ``instance`` (one of the names above)."""
    return f"{STUNNEL_LOG_DIR}/{instance}.log"


def stunnel_pidfile(instance: str) -> str:
    """The pid file of the stunnel instance ``instance`` (one of the names above)."""
    return f"/run/stunnel-{instance}.pid"


#: Where the identity app's log4j writes, relative to a Gluu chroot (the root on a node
#: without one).
OXAUTH_LOG_DIR = "/opt/gluu/jetty/oxauth/logs"

# --- cluster files: the same on every node of their roles


@dataclass(frozen=True)
class ClusterFile:
    """A file every node of ``roles`` must hold byte for byte the same.

    The first identity node's copy is read once (by the install, or by the first
    ``files apply`` of a cluster installed outside clustermgr) and sealed in the
    inventory; every node gets the sealed copy, and the watcher compares digests.
    """

    #: Where it is, inside the Gluu Server chroot on a node that has one.
    path: str
    mode: int
    #: What it is, in a few words.
    what: str
    #: Its content is secret: never shown, registered for redaction when the manager
    #: opens it (a public certificate is not).
    secret: bool
    #: ``user:group`` to own it, or None: the writer's (root).
    owner: str | None = None
    #: False: sealed only where the first node has it (a file one kind of node makes).
    required: bool = True
    roles: frozenset[Role] = frozenset({Role.IDENTITY})

    def on(self, gluu_root: str | None) -> str:
        """Its path on a node whose Gluu chroot is ``gluu_root`` (None: it has none)."""
        return gluu_root.rstrip("/") + self.path if gluu_root else self.path


#: The one list of them.  Made on the first node by its setup.
CLUSTER_FILES: tuple[ClusterFile, ...] = (
    ClusterFile("/etc/certs/httpd.key", 0o600, "the web front's private key", secret=True),
    ClusterFile("/etc/certs/httpd.crt", 0o644, "the web front's certificate", secret=False),
    #: The identity app's signing keys (a JSON keystore) where the node's app reads one...
    ClusterFile(
        "/etc/certs/oxauth-keys.json",
        0o600,
        "the identity app's signing keys",
        secret=True,
        required=False,
    ),
    #: ...and oxAuth's own Java keystore on a Gluu Server node.
    ClusterFile(
        "/etc/certs/oxauth-keys.jks",
        0o600,
        "oxAuth's signing keystore",
        secret=True,
        required=False,
    ),
)
#: The name the sealed copies are kept under in the inventory (one cluster secret).
CLUSTER_FILES_SECRET = "gluu-shared"  # noqa: S105 (a name, not a password)


def cluster_file(path: str) -> ClusterFile:
    """The cluster file at ``path``; KeyError when it is none."""
    for found in CLUSTER_FILES:
        if found.path == path:
            return found
    raise KeyError(path)


def cluster_files_of(role: Role) -> tuple[ClusterFile, ...]:
    """The cluster files a node of ``role`` carries."""
    return tuple(f for f in CLUSTER_FILES if role in f.roles)
