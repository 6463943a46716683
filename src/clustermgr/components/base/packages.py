"""Packages every member needs, and the commands that check and install them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clustermgr.remote.command import Command

#: By OS family (see facts.os.OsInfo.family).  Enough for clustermgr's own
#: commands on a server: TLS tools, Python for helpers, ss and ps for facts.
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "debian": ("ca-certificates", "iproute2", "openssl", "procps", "python3"),
    "rhel": ("ca-certificates", "iproute", "openssl", "procps-ng", "python3"),
}

_DPKG_CHECK = (
    'for p in "$@"; do '
    '[ "$(dpkg-query -W -f=\'${db:Status-Status}\' "$p" 2>/dev/null)" = installed ] || exit 1; '
    "done"
)
_APT_INSTALL = (
    "export DEBIAN_FRONTEND=noninteractive; "
    'apt-get install -y -q --no-install-recommends "$@" '
    '|| { apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; }'
)


def check_installed(family: str, packages: Sequence[str]) -> Command:
    """Exit 0 when every package is installed."""
    if family == "rhel":
        return Command.of("rpm", "-q", "--quiet", *packages)
    return Command.script(_DPKG_CHECK, *packages)


def install(family: str, packages: Sequence[str]) -> Command:
    if family == "rhel":
        return Command.of("dnf", "install", "-y", "-q", *packages)
    return Command.script(_APT_INSTALL, *packages)
