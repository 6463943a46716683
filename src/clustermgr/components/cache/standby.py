"""twemproxy restarted without a failed request (a command built here, run on the proxy).

twemproxy reads its pool only when it starts, so a node joining or leaving restarts
it, and a restart closes every connection it holds: a request in flight fails.  So a
standby takes over first.  The proxy's TLS server connects to the first of its
``connect`` lines that answers (``failover = prio``): twemproxy's port, then the
standby's, where normally nothing listens.  The restart:

1. starts the standby, a copy of the new nutcracker.yml on the standby port;
2. turns the TLS server's two ``connect`` lines around and reloads it (its listener
   is held across reloads, :mod:`.held`): new connections go to the standby;
3. waits until no connection to twemproxy is left, then restarts it;
4. once it listens, puts the lines back, reloads, waits until no connection to the
   standby is left, and stops the standby.

The waits are bounded (5 s each); a connection still open then is cut, as it would be
without a standby.  Whatever happens, the TLS server's file is put back as it was.
"""

from __future__ import annotations

from clustermgr import topology
from clustermgr.components.cache.model import (
    LOCALHOST,
    NUTCRACKER_YML,
    PROXY_SERVER_CONF,
    PROXY_SERVER_SERVICE,
)
from clustermgr.facts.services import ServiceControl
from clustermgr.remote.command import Command

#: $1 nutcracker.yml, $2 the standby's port, $3 its stats port, $4 twemproxy's port,
#: $5 the TLS server's configuration, $6 its service, $7 its log, $8 the address both
#: listen on.  The standby's copy holds the Redis password: the owner's alone, removed.
_SCRIPT = """\
yml=$1 spare=$2 spare_stats=$3 port=$4 tls=$5 tls_service=$6 tls_log=$7 addr=$8
conf=$(mktemp) pid=$(mktemp) saved=$(mktemp)
standby="connect = $addr:$spare" primary="connect = $addr:$port"
listening() {  # something listens on port $1 (up to 5 s)
  for i in $(seq 50); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done
  return 1
}
drained() {  # no connection to port $1 is open any more (up to 5 s)
  for i in $(seq 50); do
    ss -Htn state established "sport = :$1" | grep -q . || return 0
    sleep 0.1
  done
  return 1
}
reload_tls() {  # the TLS server reads its file again, and says so in its log (read
  # from where it ended: the log grows with every connection)
  from=$(($(stat -c %s "$tls_log" 2>/dev/null || echo 0) + 1))
  svc "$tls_service" reload >/dev/null || return 1
  for i in $(seq 50); do
    tail -c +"$from" "$tls_log" 2>/dev/null | grep -q 'Configuration successful' && return 0
    sleep 0.1
  done
  return 1
}
put_back() {
  if [ -s "$saved" ] && ! cmp -s "$saved" "$tls"; then cat "$saved" > "$tls"; reload_tls; fi
  [ -s "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
  rm -f "$conf" "$pid" "$saved"
}
trap put_back EXIT
if svc_running nutcracker; then
  sed "s/^  listen: .*/  listen: $addr:$spare/" "$yml" > "$conf"
  nutcracker -d -c "$conf" -p "$pid" -a "$addr" -s "$spare_stats" -o /dev/null
  if listening "$spare" && grep -qx "$primary" "$tls" && grep -qx "$standby" "$tls"; then
    cp "$tls" "$saved"
    sed -e "/^$standby\\$/d" -e "s/^$primary\\$/$standby\\n$primary/" "$saved" > "$tls"
    reload_tls && drained "$port"
  fi
fi
svc_restart nutcracker >/dev/null
status=$?
listening "$port"
if [ -s "$saved" ]; then cat "$saved" > "$tls" && reload_tls && drained "$spare"; fi
exit $status
"""


def restart_with_standby(services: ServiceControl) -> Command:
    """twemproxy restarted, a standby answering the new connections meanwhile."""
    return services.script(
        _SCRIPT,
        NUTCRACKER_YML,
        str(topology.TWEMPROXY_STANDBY.port),
        str(topology.TWEMPROXY_STANDBY_STATS.port),
        str(topology.TWEMPROXY.port),
        PROXY_SERVER_CONF,
        PROXY_SERVER_SERVICE,
        topology.stunnel_log(topology.STUNNEL_PROXY_SERVER),
        LOCALHOST,
    )
