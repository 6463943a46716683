"""Who we are on a server and how to act there: one probe on first contact.

Every later command depends on these answers: whether to prefix ``sudo -n``,
whether services are driven by ``systemctl`` or ``service``, and whether a
Gluu Server chroot is already installed.  One constant script asks them all,
so a first contact costs one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.facts.base import Fact, unusable
from clustermgr.facts.services import ServiceControl
from clustermgr.remote.command import Command

# Gluu packages install their chroot as /opt/gluu-server or, for versioned
# packages, /opt/gluu-server-<version>; the highest version (sort -V, so 4.5.10
# sorts after 4.5.2) is the one in use.  A chroot holds a root filesystem: a folder
# there without a shell (a package's own files) is not one.  `sudo -n` never prompts: it fails
# when a password would be needed, which is what "can escalate" must mean for
# commands run without a terminal.
PROBE_SCRIPT = """\
printf 'uid=%s\\n' "$(id -u)"
if sudo -n true >/dev/null 2>&1; then echo sudo=yes; else echo sudo=no; fi
if [ -d /run/systemd/system ]; then echo init=systemd
elif command -v service >/dev/null 2>&1; then echo init=sysv
else echo init=unknown
fi
if [ -x /opt/gluu-server/bin/sh ]; then root=/opt/gluu-server
else root=$(for d in /opt/gluu-server-*; do [ -x "$d/bin/sh" ] && printf '%s\\n' "$d"; done \
| sort -V | tail -n 1)
fi
printf 'gluu_root=%s\\n' "$root"
printf 'hostname=%s\\n' "$(hostname -f 2>/dev/null || hostname)"
"""

_INITS = frozenset({"systemd", "sysv"})


@dataclass(frozen=True)
class Platform:
    uid: int
    sudo: bool
    #: ``"systemd"``, ``"sysv"`` or ``"unknown"``.
    init: str
    gluu_root: str | None
    hostname: str

    @property
    def is_root(self) -> bool:
        return self.uid == 0

    @property
    def can_escalate(self) -> bool:
        """True when privileged commands can run without a password prompt."""
        return self.is_root or self.sudo

    def privilege_prefix(self) -> tuple[str, ...]:
        """What to put before a command that needs root."""
        return () if self.is_root else ("sudo", "-n")

    @property
    def services(self) -> ServiceControl:
        """How to start, stop and check services here."""
        return ServiceControl(self.init)

    def gluu_prefix(self) -> tuple[str, ...]:
        """What to put before a command that must run inside the Gluu chroot."""
        return ("chroot", self.gluu_root) if self.gluu_root else ()


def parse_platform(stdout: str) -> Platform:
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in {"uid", "sudo", "init", "gluu_root", "hostname"}:
            values[key] = value.strip()  # last wins: noise from shell rc files comes first
    uid = values.get("uid", "")
    if not uid.isdigit():
        raise unusable("platform", stdout, "no numeric uid")
    init = values.get("init", "")
    return Platform(
        uid=int(uid),
        sudo=values.get("sudo") == "yes",
        init=init if init in _INITS else "unknown",
        gluu_root=values.get("gluu_root") or None,
        hostname=values.get("hostname", ""),
    )


PLATFORM: Fact[Platform] = Fact(
    name="platform",
    command=Command.script(PROBE_SCRIPT),
    parse=parse_platform,
)
