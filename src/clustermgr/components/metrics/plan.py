"""Plan the exporters of a cluster (pure): facts of every member -> steps per member.

On each server: Debian's exporter packages its role needs, installed from the
server's own repositories without being started (they would listen on every
address until their file binds them); each exporter's ``/etc/default`` file,
bound to 127.0.0.1, then the exporter enabled at boot and (re)started, verified by
reading its metrics on the server itself; on identity nodes, slapd's ``cn=monitor``
database.  A second apply finds every step done: the files are the same, each
exporter runs and answers.  An exporter that stopped is started again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clustermgr.components.base import packages
from clustermgr.components.metrics import monitordb
from clustermgr.components.metrics.exporters import (
    LOOPBACK,
    REDIS,
    Exporter,
    for_role,
    password_secrets,
    redis_password_file,
)
from clustermgr.facts.ldap import SlapdConfig, ldapmodify_root
from clustermgr.facts.services import ServiceControl
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.topology import REDIS_EXPORTER_PASSWORD_FILE, Role

#: The exporters' group: it reads the Redis exporter's password file.
GROUP = "prometheus"


@dataclass(frozen=True)
class Member:
    hostname: str
    role: Role


@dataclass(frozen=True)
class HostFacts:
    """What the planner needs to know about one member."""

    #: OS family (``debian``, ``rhel``).
    family: str
    #: ``systemd`` or ``sysv``.
    init: str
    #: slapd's configuration (identity nodes; None elsewhere).
    slapd: SlapdConfig | None = None
    #: The backends built into slapd (identity nodes).
    static_backends: frozenset[str] = frozenset()


# Package scripts start what they install: a policy that denies it while the exporters
# are installed (unless the server has a policy of its own) keeps them from listening
# on every address before their files bind them to 127.0.0.1.
_NO_START = """\
policy=/usr/sbin/policy-rc.d
if [ -e "$policy" ]; then exec "$@"; fi
printf '#!/bin/sh\\nexit 101\\n' >"$policy" && chmod 755 "$policy" || exit 1
"$@"; status=$?
rm -f "$policy"
exit "$status"
"""


def install_step(host: str, family: str, wanted: Sequence[Exporter]) -> Step:
    names = tuple(e.package for e in wanted)
    install = packages.install(family, names)
    if family == "debian":
        install = Command.script(_NO_START, *(str(part) for part in install.parts))
    return Step(
        host,
        "install the exporters",
        "Debian's exporters, from the server's own repositories",
        commands=(install,),
        check=packages.check_installed(family, names),
        unchanged_reason=f"already installed: {', '.join(names)}",
    )


# The exporter starts at boot, runs, listens on 127.0.0.1 only and serves metrics that
# say it reads what it exports; tried $4 times, 0.2 s apart.
_ANSWERS = """\
PY='import sys, urllib.request
try:
    text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
except Exception as error:
    sys.exit(f"{sys.argv[1]}: {error}")
if not any(line.startswith(sys.argv[2]) for line in text.splitlines()):
    sys.exit(f"{sys.argv[1]} answers without {sys.argv[2]!r}")'
svc_enabled "$1" || { echo "$1 does not start at boot" >&2; exit 1; }
i=0
while :; do
  i=$((i + 1))
  if svc_running "$1"; then
    wide=$(ss -Hltn "sport = :$3" | awk '{print $4}' | grep -v "^$5:") || true
    if [ -n "$wide" ]; then echo "port $3 listens on $wide, not only $5" >&2; exit 1; fi
    why=$(python3 -c "$PY" "$2" "$6" 2>&1) && exit 0
  else
    why="$1 is not running"
  fi
  [ "$i" -ge "$4" ] && break
  sleep 0.2
done
echo "$why" >&2
exit 1
"""


def answers(init: str, exporter: Exporter, *, wait: bool = False) -> Command:
    """Exit 0 when ``exporter`` is enabled, runs, listens on 127.0.0.1 only and reads its
    source (``wait``: gives it 10 s after a start)."""
    tries = "50" if wait else "1"
    return ServiceControl(init).script(
        _ANSWERS,
        exporter.package,
        exporter.url,
        str(exporter.port.port),
        tries,
        LOOPBACK,
        exporter.up_line,
    )


def exporter_step(host: str, exporter: Exporter, init: str, redis_password: Secret) -> Step:
    """``exporter`` bound to 127.0.0.1, enabled at boot, restarted when its files changed
    or it does not answer; stopped if it fails on the new files (never left listening on
    the files before them, which may bind every address)."""
    files = [FileChange(exporter.defaults_file, exporter.defaults().encode())]
    if exporter is REDIS:
        files.append(
            FileChange(
                REDIS_EXPORTER_PASSWORD_FILE,
                redis_password_file(redis_password).encode(),
                mode=0o640,
                owner=f"root:{GROUP}",
                sensitive=True,
                secrets=password_secrets(redis_password),
            )
        )
    services = ServiceControl(init)
    name = exporter.package
    return Step(
        host,
        f"run {name}",
        f"on {exporter.listen} only: the manager reads it over SSH",
        files=tuple(files),
        commands=(
            services.script('svc_enable "$1"', name),
            services.script('svc_restart "$1" >/dev/null', name),
        ),
        check=answers(init, exporter),
        verify=answers(init, exporter, wait=True),
        rollback=(services.script('svc "$1" stop >/dev/null 2>&1 || true', name),),
        unchanged_reason=f"{name} runs on {exporter.listen} and answers",
    )


def monitor_step(host: str, slapd: SlapdConfig, static_backends: frozenset[str]) -> Step:
    ldif = monitordb.changes(slapd, static_backends)
    return Step(
        host,
        "enable slapd's cn=monitor",
        "slapd's own counters (operations, connections), read by root over ldapi only",
        commands=(ldapmodify_root(ldif.encode()),) if ldif else (),
        check=monitordb.readable_by_root_only(),
        verify=monitordb.readable_by_root_only(),
        unchanged_reason="cn=monitor answers root over ldapi, and nobody else",
    )


def plan_metrics(
    cluster: str,
    members: Sequence[Member],
    facts: Mapping[str, HostFacts],
    redis_password: Secret,
) -> Plan:
    """Every reachable member's exporters (a member without facts is left out: the
    caller reports it)."""
    steps: list[Step] = []
    for member in members:
        fact = facts.get(member.hostname)
        if fact is None:
            continue
        wanted = for_role(member.role)
        host = member.hostname
        steps.append(install_step(host, fact.family, wanted))
        steps += [exporter_step(host, e, fact.init, redis_password) for e in wanted]
        if member.role is Role.IDENTITY and fact.slapd is not None:
            steps.append(monitor_step(host, fact.slapd, fact.static_backends))
    return Plan(f"monitoring of cluster {cluster}", tuple(steps))
