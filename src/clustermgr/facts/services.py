"""Which services exist on a server and whether they run; how to start and stop them.

Two init systems, two readers.  systemd is asked for every loaded service unit
(``--all`` includes stopped ones) in its plain, header-less listing.  SysV
``service --status-all`` marks each init script ``+`` (running), ``-``
(stopped) or ``?`` (the script has no usable ``status``).  Debian's
``service`` writes the ``?`` lines to stderr, so the fact folds stderr into
stdout to keep them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from clustermgr.facts.base import Fact
from clustermgr.redact import Secret
from clustermgr.remote.command import Command, Raw


@dataclass(frozen=True)
class ServiceState:
    """``active`` is None when the state cannot be known (SysV ``[ ? ]``).

    ``sub`` is systemd's SUB column (``running``, ``exited``, ``dead``,
    ``failed``...); for SysV it is ``running``, ``stopped`` or ``unknown``.
    """

    name: str
    active: bool | None
    sub: str


# systemctl is-active treats a unit that is reloading as up; so do we.
_SYSTEMD_UP = frozenset({"active", "reloading"})
# Older systemctl versions mark failed or missing units with a bullet even
# when asked for plain output; it is not part of the unit name.
_BULLETS = "●*"
_SYSTEMD_LINE = re.compile(
    r"^(?P<unit>\S+\.service)\s+(?P<load>\S+)\s+(?P<active>\S+)\s+(?P<sub>\S+)"
)

_SYSV_MARKS: Mapping[str, tuple[bool | None, str]] = {
    "+": (True, "running"),
    "-": (False, "stopped"),
    "?": (None, "unknown"),
}
_SYSV_LINE = re.compile(r"^\s*\[\s*(?P<mark>[-+?])\s*\]\s+(?P<name>\S+)\s*$")


def parse_systemd(stdout: str) -> Mapping[str, ServiceState]:
    services: dict[str, ServiceState] = {}
    for line in stdout.splitlines():
        match = _SYSTEMD_LINE.match(line.strip().lstrip(_BULLETS).lstrip())
        if match is None:
            continue
        name = match["unit"].removesuffix(".service")
        services[name] = ServiceState(name, match["active"] in _SYSTEMD_UP, match["sub"])
    return services


def parse_sysv(stdout: str) -> Mapping[str, ServiceState]:
    services: dict[str, ServiceState] = {}
    for line in stdout.splitlines():
        match = _SYSV_LINE.match(line)
        if match is None:
            continue
        active, sub = _SYSV_MARKS[match["mark"]]
        services[match["name"]] = ServiceState(match["name"], active, sub)
    return services


SYSTEMD_SERVICES: Fact[Mapping[str, ServiceState]] = Fact(
    name="services_systemd",
    command=Command.of(
        "systemctl", "list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager"
    ),
    parse=parse_systemd,
)

SYSV_SERVICES: Fact[Mapping[str, ServiceState]] = Fact(
    name="services_sysv",
    command=Command.of("service", "--status-all", Raw("2>&1")),
    parse=parse_sysv,
)

_BY_INIT: Mapping[str, Fact[Mapping[str, ServiceState]]] = {
    "systemd": SYSTEMD_SERVICES,
    "sysv": SYSV_SERVICES,
}


def services_fact(init: str) -> Fact[Mapping[str, ServiceState]]:
    """The services fact for an init system (see :attr:`Platform.init`).

    Raises ``ValueError`` for anything else: there is nothing to ask then.
    """
    try:
        return _BY_INIT[init]
    except KeyError:
        raise ValueError(f"no services fact for init system {init!r}") from None


_SHELL: Mapping[str, Mapping[str, str]] = {
    "systemd": {
        "svc": 'svc() { systemctl "$2" "$1"; }',
        "svc_restart": 'svc_restart() { systemctl restart "$1"; }',
        "svc_running": 'svc_running() { systemctl is-active --quiet "$1"; }',
        "svc_enabled": 'svc_enabled() { systemctl is-enabled --quiet "$1"; }',
        "svc_enable": 'svc_enable() { systemctl enable --quiet "$1"; }',
    },
    # Debian's init scripts: a restart is a stop (allowed to fail: the daemon may
    # not run) and a start, so the start's failure is the one that counts.
    "sysv": {
        "svc": 'svc() { service "$1" "$2"; }',
        "svc_restart": 'svc_restart() { service "$1" stop >/dev/null 2>&1; service "$1" start; }',
        "svc_running": 'svc_running() { service "$1" status >/dev/null 2>&1; }',
        "svc_enabled": 'svc_enabled() { ls /etc/rc2.d/S*"$1" >/dev/null 2>&1; }',
        "svc_enable": (
            'svc_enable() { update-rc.d "$1" defaults >/dev/null && update-rc.d "$1" enable'
            " >/dev/null; }"
        ),
    },
}
_CALL = re.compile(r"\bsvc(?:_[a-z]+)?\b")


@dataclass(frozen=True)
class ServiceControl:
    """Drives a host's services the way its init system wants (see ``Platform.init``).

    systemd gets ``systemctl``; anything else SysV: ``service``, ``update-rc.d``
    and the runlevel links.  :meth:`command` is one action; :meth:`script` runs
    a shell script given these functions:

    * ``svc NAME ACTION``: start, stop, reload, status...
    * ``svc_restart NAME``: stop and start
    * ``svc_running NAME``: exit 0 when it runs
    * ``svc_enabled NAME``: exit 0 when it starts at boot
    * ``svc_enable NAME``: make it start at boot
    """

    init: str

    @property
    def _kind(self) -> str:
        return "systemd" if self.init == "systemd" else "sysv"

    def command(self, name: str, action: str) -> Command:
        """``systemctl ACTION NAME`` on systemd, ``service NAME ACTION`` elsewhere."""
        if self._kind == "systemd":
            return Command.of("systemctl", action, name)
        return Command.of("service", name, action)

    def functions(self, body: str) -> str:
        """The definitions of the ``svc*`` functions ``body`` calls (and only those)."""
        known = _SHELL[self._kind]
        used = sorted({m for m in _CALL.findall(body) if m in known})
        return "".join(known[name] + "\n" for name in used)

    def script(
        self, body: str, *args: str | Secret, stdin: bytes | Secret | None = None
    ) -> Command:
        """``body`` as a POSIX shell script (positional ``args``) with the ``svc*`` functions."""
        return Command.script(self.functions(body) + body, *args, stdin=stdin)
