"""Plan the cache chain (pure): layout + certificates -> steps per host.

Three plans, each needing what the one before made or proved: ``plan_keys`` has
every host make its stunnel key and CSR; the manager signs the CSRs; then
``plan_cache`` writes the configuration and (re)starts the daemons whose files
changed or that are not running.  ``plan_cutover`` points the identity servers
at the cache (or back at LDAP) on one node: an apply runs it only once the whole
chain verifies end to end, and first when going back to LDAP.
"""

from __future__ import annotations

from collections.abc import Mapping

from clustermgr import topology
from clustermgr.components.cache import held, oxconfig, render, standby
from clustermgr.components.cache.model import (
    EARLIER_PROXY_SERVER_CONF,
    NODE_CLIENT_CONF,
    NODE_SERVER_CONF,
    NUTCRACKER_DEFAULTS,
    NUTCRACKER_YML,
    PROXY_CLIENTS_CONF,
    PROXY_SERVER_CONF,
    PROXY_SERVER_SERVICE,
    REDIS_CONF,
    TLS,
    CacheLayout,
    Provider,
)
from clustermgr.facts.services import ServiceControl
from clustermgr.pki import nodetls
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

#: Restarts of a node's cache daemons roll through the nodes one at a time.
ROLLING = "cache-nodes"

_ENABLE = 'svc_enable "$1"'
_RESTART = 'svc_restart "$1" >/dev/null'
#: A running daemon re-reads its configuration in place (its open connections and
#: unchanged listeners stay); one that does not run is started.
_RELOAD = (
    'if svc_running "$1"; then svc "$1" reload >/dev/null; else svc_restart "$1" >/dev/null; fi'
)
_RUNNING = 'svc_enabled "$1" && svc_running "$1"'
#: As ``_RUNNING``, giving the service $2 tries 0.1 s apart to report running: an init
#: script's start returns before the daemon it forked has written its pid file.
_RUNNING_WAIT = """\
svc_enabled "$1" || { echo "$1 does not start at boot" >&2; exit 1; }
for i in $(seq "$2"); do svc_running "$1" && exit 0; sleep 0.1; done
echo "$1 is not running" >&2
exit 1
"""
#: Redis is enabled and answers PONG to its password (on stdin, never on a command
#: line); tried $2 times, 0.1 s apart.
_REDIS_UP = """\
REDISCLI_AUTH=$(cat); export REDISCLI_AUTH
svc_enabled redis-server || exit 1
for i in $(seq "$2"); do
  [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && exit 0
  sleep 0.1
done
exit 1
"""
#: Every TCP port after $1 is listening; tried $1 times, 0.1 s apart.
_LISTENING = """\
tries=$1; shift
for port in "$@"; do
  ok=
  for i in $(seq "$tries"); do
    ss -Hltn "sport = :$port" | grep -q . && { ok=1; break; }
    sleep 0.1
  done
  [ -n "$ok" ] || { echo "nothing listens on $port" >&2; exit 1; }
done
"""


def running(services: ServiceControl, name: str, *ports: int, wait: bool = False) -> Command:
    """Exit 0 when service ``name`` is enabled, running, and listening on ``ports``.

    ``wait``: give the service up to 5 s to run and its ports to open (after a restart).
    """
    tries = "50" if wait else "1"
    check = services.script(_RUNNING_WAIT, name, tries) if wait else services.script(_RUNNING, name)
    return check.then(Command.script(_LISTENING, tries, *map(str, ports))) if ports else check


def restart(services: ServiceControl, name: str) -> tuple[Command, ...]:
    """Service ``name`` enabled at boot and restarted."""
    return (services.script(_ENABLE, name), services.script(_RESTART, name))


def reload(services: ServiceControl, name: str) -> tuple[Command, ...]:
    """Service ``name`` enabled at boot and reloaded (started when it does not run)."""
    return (services.script(_ENABLE, name), services.script(_RELOAD, name))


def redis_up(services: ServiceControl, password: Secret, *, wait: bool = False) -> Command:
    """Exit 0 when Redis is enabled and answers its password (``wait``: for up to 5 s)."""
    tries = "50" if wait else "1"
    return services.script(_REDIS_UP, str(topology.REDIS.port), tries, stdin=password)


def plan_keys(cluster: str, layout: CacheLayout) -> Plan:
    steps = tuple(nodetls.key_step(h, TLS, purpose="stunnel") for h in layout.hosts)
    return Plan(f"cache of cluster {cluster}: TLS keys", steps)


def redis_step(
    host: str, layout: CacheLayout, services: ServiceControl, *, serving: bool = True
) -> Step:
    conf = render.redis_conf(layout.password).encode()
    return Step(
        host,
        "run Redis on localhost with a password",
        "the node's share of the cache; only stunnel reaches it from outside",
        files=(
            FileChange(
                REDIS_CONF,
                conf,
                mode=0o640,
                owner="redis:redis",
                sensitive=True,
                secrets=(layout.password,),
            ),
        ),
        commands=restart(services, "redis-server"),
        check=redis_up(services, layout.password),
        verify=redis_up(services, layout.password, wait=True),
        unchanged_reason="Redis runs with the cluster's password",
        rolling_group=ROLLING if serving else None,
    )


def stunnel_files(
    ca_pem: bytes, cert_pem: bytes, confs: Mapping[str, str]
) -> tuple[FileChange, ...]:
    return (
        *TLS.cert_files(ca_pem, cert_pem),
        *(FileChange(path, text.encode(), mode=0o644) for path, text in confs.items()),
    )


def node_stunnel_step(
    host: str,
    layout: CacheLayout,
    services: ServiceControl,
    ca_pem: bytes,
    cert_pem: bytes,
    *,
    serving: bool = True,
) -> Step:
    confs = {
        NODE_SERVER_CONF: render.node_server_conf(layout),
        NODE_CLIENT_CONF: render.node_client_conf(layout),
    }
    ports = (topology.STUNNEL_NODE.port, topology.STUNNEL_CACHE_CLIENT.port)
    detail = f"TLS on {ports[0]} to Redis, and 127.0.0.1:{ports[1]} to the proxy"
    files = stunnel_files(ca_pem, cert_pem, confs)
    return _stunnel_step(host, services, detail, ports, files, ROLLING if serving else None)


def _stunnel_step(
    host: str,
    services: ServiceControl,
    detail: str,
    ports: tuple[int, ...],
    files: tuple[FileChange, ...],
    rolling_group: str | None = None,
) -> Step:
    """stunnel with its files, restarted; done when it listens on every one of ``ports``."""
    return Step(
        host,
        "run stunnel for the cache",
        f"{detail}, each peer verified against the cluster CA",
        files=files,
        commands=restart(services, "stunnel4"),
        check=running(services, "stunnel4", *ports),
        verify=running(services, "stunnel4", *ports, wait=True),
        unchanged_reason="stunnel runs with the cluster's certificates",
        rolling_group=rolling_group,
    )


def nutcracker_file(layout: CacheLayout) -> FileChange:
    """nutcracker.yml, validated by ``nutcracker -t`` as a staged candidate before it is moved
    into place: an invalid file never replaces the running one."""
    return FileChange(
        NUTCRACKER_YML,
        render.nutcracker_yml(layout).encode(),
        mode=0o640,
        owner="root:nutcracker",
        sensitive=True,
        secrets=(layout.password,),
        validate=lambda path: Command.of("nutcracker", "-t", "-c", path),
    )


def twemproxy_step(layout: CacheLayout, services: ServiceControl) -> Step:
    ports = (topology.TWEMPROXY.port, topology.TWEMPROXY_STATS.port)
    return Step(
        layout.proxy,
        "run twemproxy",
        f"one pool of every node's Redis on 127.0.0.1:{ports[0]}, stats on 127.0.0.1:{ports[1]}",
        files=(
            nutcracker_file(layout),
            FileChange(NUTCRACKER_DEFAULTS, render.nutcracker_defaults().encode()),
        ),
        commands=(services.script(_ENABLE, "nutcracker"), standby.restart_with_standby(services)),
        check=running(services, "nutcracker", *ports),
        verify=running(services, "nutcracker", *ports, wait=True),
        unchanged_reason="twemproxy runs with every node in its pool",
    )


#: The proxy's TLS server was an instance of Debian's stunnel4 service ($1 its
#: configuration, $2 its pid file) before it had a service of its own: that instance
#: is stopped and its file removed, so the new service can bind the port.
_RETIRE_EARLIER = f"""\
[ -e "$1" ] || exit 0
start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 --pidfile "$2" \\
  --exec {held.STUNNEL}
rm -f "$1"
"""


def proxy_stunnel_step(
    layout: CacheLayout, services: ServiceControl, ca_pem: bytes, cert_pem: bytes
) -> Step:
    """The proxy's tunnels to the nodes (Debian's stunnel4 service) and its TLS server in
    front of twemproxy (a service of its own, :mod:`.held`), both reloaded in place."""
    server_port = topology.STUNNEL_PROXY.port
    tunnel_ports = tuple(n.tunnel_port for n in layout.nodes)
    files = (
        *stunnel_files(ca_pem, cert_pem, {PROXY_CLIENTS_CONF: render.proxy_clients_conf(layout)}),
        FileChange(PROXY_SERVER_CONF, render.proxy_server_conf(layout).encode()),
        FileChange(held.LAUNCHER, held.launcher().encode(), mode=0o755),
        FileChange(held.INIT_SCRIPT, held.init_script().encode(), mode=0o755),
    )
    retire = Command.script(
        _RETIRE_EARLIER,
        EARLIER_PROXY_SERVER_CONF,
        topology.stunnel_pidfile(topology.STUNNEL_PROXY_SERVER),
    )
    earlier_gone = Command.of("test", "!", "-e", EARLIER_PROXY_SERVER_CONF)

    def up(wait: bool) -> Command:
        tunnels = running(services, "stunnel4", *tunnel_ports, wait=wait)
        server = running(services, PROXY_SERVER_SERVICE, server_port, wait=wait)
        return tunnels.then(server).then(earlier_gone)

    # Every node's sessions pass through it: a node joining or leaving changes both,
    # and a reload keeps the others' connections (and the server's listener) up.
    return Step(
        layout.proxy,
        "run stunnel for the cache",
        f"TLS on {server_port} to twemproxy, and one tunnel per node, "
        "each peer verified against the cluster CA",
        files=files,
        commands=(
            *reload(services, "stunnel4"),
            retire,
            *reload(services, PROXY_SERVER_SERVICE),
        ),
        check=up(wait=False),
        verify=up(wait=True),
        unchanged_reason="stunnel runs with the cluster's certificates",
    )


def cache_config_step(host: str, layout: CacheLayout) -> Step:
    provider = layout.provider
    where = f"Redis through {oxconfig.SERVERS}" if provider is Provider.REDIS else "LDAP (ou=cache)"
    return Step(
        host,
        f"set oxCacheConfiguration to {provider.value}",
        f"the identity servers keep sessions in {where}; replication carries it to every node",
        commands=(oxconfig.command("apply", provider, layout.password),),
        check=oxconfig.command("check", provider, layout.password),
        unchanged_reason=f"oxCacheConfiguration already names {provider.value}",
    )


def plan_cache(
    cluster: str,
    layout: CacheLayout,
    ca_pem: bytes,
    certs: Mapping[str, bytes],
    services: Mapping[str, ServiceControl],
    *,
    serving: bool = True,
) -> Plan:
    """The chain: Redis and stunnel on every node, stunnel and twemproxy on the proxy.

    ``certs``: hostname -> its stunnel certificate (PEM; b"" when not signed yet).
    ``services``: hostname -> how it runs services; a host without one (not
    reached) gets no service step.  The identity servers are not touched
    (:func:`plan_cutover`).  ``serving``: the identity servers use the chain now, so
    the nodes restart Redis and stunnel one after another; before the cutover
    nothing depends on them and every node restarts at once.
    """
    steps: list[Step] = []
    for node in layout.nodes:
        host = node.hostname
        if host in services:
            steps.append(redis_step(host, layout, services[host], serving=serving))
            cert = certs.get(host, b"")
            control = services[host]
            steps.append(node_stunnel_step(host, layout, control, ca_pem, cert, serving=serving))
    # The tunnels first: twemproxy connects to every server as it starts.
    if (proxy := services.get(layout.proxy)) is not None:
        steps.append(proxy_stunnel_step(layout, proxy, ca_pem, certs.get(layout.proxy, b"")))
        steps.append(twemproxy_step(layout, proxy))
    return Plan(f"cache of cluster {cluster}", tuple(steps))


def plan_cutover(cluster: str, layout: CacheLayout, host: str) -> Plan:
    """Point the identity servers at ``layout.provider``, written on identity node ``host``."""
    return Plan(
        f"cache of cluster {cluster}: identity servers to {layout.provider.value}",
        (cache_config_step(host, layout),),
    )
