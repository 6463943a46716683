"""The proxy's TLS server, its listener held across reloads (pure: two files' text).

Every identity node's sessions reach twemproxy through the proxy's stunnel server,
and a node joining or leaving changes its configuration (the names it accepts).
stunnel reloads by closing every listener it bound and binding it again; meanwhile
a connection is refused, and one waiting in the old listener's queue is reset: a
failed login.  A listener stunnel is given, the way systemd's socket activation gives
one (``LISTEN_FDS``), it keeps open across reloads.

So the server runs as a service of its own: :data:`INIT_SCRIPT` starts it through
:data:`LAUNCHER`, which binds each ``accept`` of the configuration and then runs
stunnel in its place, handing the sockets over.  A reload is then a SIGHUP that no
connection notices; one that changes the ``accept`` lines is a restart.
"""

from __future__ import annotations

from clustermgr import topology
from clustermgr.components.cache.model import PROXY_SERVER_CONF, PROXY_SERVER_SERVICE

LAUNCHER = "/usr/local/lib/clustermgr/stunnel-held"
INIT_SCRIPT = f"/etc/init.d/{PROXY_SERVER_SERVICE}"
STUNNEL = "/usr/bin/stunnel4"

_LAUNCHER = '''\
#!/usr/bin/python3
"""Run stunnel on CONF with its listening sockets bound here (managed by clustermgr).

Each ``accept`` of CONF, in order, becomes descriptor 3, 4, ... and LISTEN_FDS says
how many (systemd's socket activation protocol): stunnel uses them for its first
sections and never closes them when it reloads.  Usage: stunnel-held CONF
"""

import fcntl
import os
import socket
import sys

STUNNEL = "{stunnel}"
FIRST = 3


def accepts(path):
    with open(path, encoding="utf-8") as conf:
        for line in conf:
            key, sep, value = line.partition("=")
            if sep and key.strip() == "accept":
                yield value.strip()


def listen(address):
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host and socket.has_dualstack_ipv6():
        server = socket.create_server(
            ("", int(port)), family=socket.AF_INET6, backlog=socket.SOMAXCONN, dualstack_ipv6=True
        )
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server = socket.create_server((host, int(port)), family=family, backlog=socket.SOMAXCONN)
    return server.detach()


def main(conf):
    bound = [listen(address) for address in accepts(conf)]
    # Out of the way first, then into 3, 4, ... (dup2 leaves them open across exec).
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, FIRST + len(bound)) for fd in bound]
    for fd in bound:
        os.close(fd)
    for number, fd in enumerate(moved, start=FIRST):
        os.dup2(fd, number)
        os.close(fd)
    os.environ["LISTEN_FDS"] = str(len(bound))
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(STUNNEL, [STUNNEL, conf])


if __name__ == "__main__":
    main(sys.argv[1])
'''

_INIT_SCRIPT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          {service}
# Required-Start:    $local_fs $remote_fs $network
# Required-Stop:     $local_fs $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: stunnel in front of twemproxy, its listener kept across reloads
### END INIT INFO
# managed by clustermgr: changes here are replaced at the next cache apply

CONF={conf}
PIDFILE={pidfile}
LAUNCHER={launcher}
DAEMON={stunnel}
# The accept lines the running stunnel was started with: its listeners.
BOUND=/run/{service}.accept

accepts() {{ sed -n 's/^[[:space:]]*accept[[:space:]]*=[[:space:]]*//p' "$CONF"; }}
running() {{ start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON"; }}

start() {{
  running && return 0
  accepts > "$BOUND"
  start-stop-daemon --start --quiet --pidfile "$PIDFILE" --exec "$DAEMON" \\
    --startas "$LAUNCHER" -- "$CONF"
}}

stop() {{
  start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 \\
    --pidfile "$PIDFILE" --exec "$DAEMON"
}}

case "$1" in
  start) start ;;
  stop) stop ;;
  restart|force-reload) stop; start ;;
  reload)
    # Listeners that stay the same stay open: SIGHUP.  Others need new sockets.
    if running && [ "$(accepts)" = "$(cat "$BOUND" 2>/dev/null)" ]; then
      start-stop-daemon --stop --signal HUP --quiet --pidfile "$PIDFILE" --exec "$DAEMON"
    else
      stop; start
    fi
    ;;
  status) running ;;
  *) echo "Usage: $0 {{start|stop|restart|reload|force-reload|status}}" >&2; exit 3 ;;
esac
"""


def launcher() -> str:
    return _LAUNCHER.format(stunnel=STUNNEL)


def init_script() -> str:
    return _INIT_SCRIPT.format(
        service=PROXY_SERVER_SERVICE,
        conf=PROXY_SERVER_CONF,
        pidfile=topology.stunnel_pidfile(topology.STUNNEL_PROXY_SERVER),
        launcher=LAUNCHER,
        stunnel=STUNNEL,
    )
