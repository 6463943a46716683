"""Which Linux distribution a server runs, and whether we support it.

``/etc/os-release`` is the one file every supported distribution ships for
exactly this question.  :data:`SUPPORTED` is the single list of releases we
install on: every check of "is this OS supported" goes through
:func:`is_supported`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from clustermgr.facts.base import Fact, unusable
from clustermgr.remote.command import Command

_DEBIAN_IDS = frozenset({"debian", "ubuntu"})
_RHEL_IDS = frozenset({"rhel", "centos", "rocky", "almalinux", "fedora"})

#: Supported releases by ``ID``.  A version matches when the server's
#: ``VERSION_ID`` agrees on as many dot-separated components as the entry has:
#: ``"9"`` accepts RHEL 9.0 to 9.x, ``"22.04"`` accepts only Ubuntu 22.04.
SUPPORTED: Mapping[str, frozenset[str]] = {
    "debian": frozenset({"11", "12"}),
    "ubuntu": frozenset({"20.04", "22.04", "24.04"}),
    "rhel": frozenset({"8", "9"}),
    "rocky": frozenset({"8", "9"}),
    "almalinux": frozenset({"8", "9"}),
    "centos": frozenset({"8", "9"}),
}


@dataclass(frozen=True)
class OsInfo:
    id: str
    version_id: str
    pretty_name: str
    id_like: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """``"debian"``, ``"rhel"`` or ``"unknown"``: which package tools and paths apply.

        Derivatives name their parents in ``ID_LIKE`` (Rocky says ``rhel centos
        fedora``, Mint says ``ubuntu debian``), so both fields are consulted.
        """
        names = (self.id, *self.id_like)
        if any(name in _DEBIAN_IDS for name in names):
            return "debian"
        if any(name in _RHEL_IDS for name in names):
            return "rhel"
        return "unknown"


def is_supported(os: OsInfo) -> bool:
    """True when ``os`` is a release listed in :data:`SUPPORTED`."""
    server = os.version_id.split(".")
    for version in SUPPORTED.get(os.id, frozenset()):
        wanted = version.split(".")
        if server[: len(wanted)] == wanted:
            return True
    return False


def _unquote(raw: str) -> str:
    """Undo the shell-style quoting os-release allows (``"..."``, ``'...'``, ``\\"``)."""
    try:
        return " ".join(shlex.split(raw))
    except ValueError:  # an unbalanced quote: keep what is there
        return raw.strip().strip("\"'")


def parse_os_release(stdout: str) -> OsInfo:
    fields: dict[str, str] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, raw = line.partition("=")
        if not sep or not key.isidentifier():
            continue
        fields[key] = _unquote(raw)
    if not fields:
        raise unusable("os_release", stdout, "no KEY=value lines")
    return OsInfo(
        # os-release(5): when ID is missing, "linux" is the default.
        id=fields.get("ID", "linux").lower(),
        version_id=fields.get("VERSION_ID", ""),
        pretty_name=fields.get("PRETTY_NAME", fields.get("NAME", "Linux")),
        id_like=tuple(fields.get("ID_LIKE", "").lower().split()),
    )


OS_RELEASE: Fact[OsInfo] = Fact(
    name="os_release",
    command=Command.of("cat", "/etc/os-release"),
    parse=parse_os_release,
)
