"""The stand-in as a system service: ``/etc/init.d/oxauth`` and ``/etc/default/oxauth``.

Gluu nodes run oxAuth as a SysV service (``service oxauth start|stop|status``), and
so does the lab, so the manager's service handling is tested against the real
thing: an LSB header that orders it after slapd, ``start-stop-daemon`` with a pid
file, and options in a defaults file the script sources.  The script runs the
zipapp with ``python3 -I`` (no ``PYTHON*`` variables, no user site).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from .paths import DEFAULT_PYTHON, OXAUTH_APP, OXAUTH_DEFAULTS, OXAUTH_PIDFILE

INIT_SCRIPT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          oxauth
# Required-Start:    $network slapd
# Required-Stop:     $network slapd
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: oxAuth (clustermgr lab stand-in)
# Description:       The lab's stand-in for Gluu's oxAuth: HTTPS login and
#                    sessions in the cache that oxCacheConfiguration names.
### END INIT INFO

PATH=/usr/sbin:/usr/bin:/sbin:/bin
NAME=oxauth
PYTHON={python}
APP={app}
PIDFILE={pidfile}
OXAUTH_OPTS=""
[ -r {defaults} ] && . {defaults}

if [ -r /lib/lsb/init-functions ]; then
    . /lib/lsb/init-functions
else
    log_daemon_msg() {{ printf '%s: %s' "$1" "$2"; }}
    log_end_msg() {{ if [ "$1" = 0 ]; then echo .; else echo ' failed!'; fi; return "$1"; }}
fi

[ -x "$PYTHON" ] && [ -r "$APP" ] || exit 5

do_start() {{
    # -I: no PYTHON* variables, no user site.  OXAUTH_OPTS is split on blanks on purpose.
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile \\
        --pidfile "$PIDFILE" --chdir / --exec "$PYTHON" -- -I "$APP" $OXAUTH_OPTS
}}

do_stop() {{
    start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 \\
        --pidfile "$PIDFILE" --exec "$PYTHON" --remove-pidfile
}}

case "$1" in
    start)
        log_daemon_msg "Starting oxAuth" "$NAME"; do_start; log_end_msg $?
        ;;
    stop)
        log_daemon_msg "Stopping oxAuth" "$NAME"; do_stop; log_end_msg $?
        ;;
    restart|force-reload)
        log_daemon_msg "Restarting oxAuth" "$NAME"; do_stop && do_start; log_end_msg $?
        ;;
    status)
        start-stop-daemon --status --pidfile "$PIDFILE" --exec "$PYTHON"
        status=$?
        case $status in
            0) echo "$NAME is running" ;;
            1) echo "$NAME is not running but $PIDFILE exists" ;;
            *) echo "$NAME is not running" ;;
        esac
        exit $status
        ;;
    *)
        echo "Usage: $0 {{start|stop|restart|force-reload|status}}" >&2
        exit 3
        ;;
esac
"""


def init_script(
    python: str = DEFAULT_PYTHON,
    app_path: str = OXAUTH_APP,
    pidfile: str = OXAUTH_PIDFILE,
    defaults_file: str = OXAUTH_DEFAULTS,
) -> str:
    """The SysV script for ``/etc/init.d/oxauth`` (``service oxauth start|stop|status``)."""
    quoted = {
        k: shlex.quote(v)
        for k, v in {
            "python": python,
            "app": app_path,
            "pidfile": pidfile,
            "defaults": defaults_file,
        }.items()
    }
    return INIT_SCRIPT.format(**quoted)


def defaults_text(options: Sequence[str]) -> str:
    """``/etc/default/oxauth``: the app's options, one word each (the script splits on blanks)."""
    for option in options:
        if not option or re.search(r"[\s\"'`$\\]", option):
            raise ValueError(f"option {option!r} must be one word without quotes or $")
    return f'OXAUTH_OPTS="{" ".join(options)}"\n'
