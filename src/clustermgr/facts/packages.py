"""Which packages a server has installed, as a map name -> version.

Both package managers are asked for one tab-separated line per package, so the
parsers never depend on column widths or on the locale.  ``dpkg-query`` and
``rpm`` expand the ``\\t`` and ``\\n`` escapes in the format themselves.

A name can appear more than once (several kernels, multi-arch or multilib
copies of a library): the last line wins.  The version is informational; what
decisions use is whether a name is present, see :func:`missing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from clustermgr.facts.base import Fact
from clustermgr.remote.command import Command

# dpkg also lists packages it merely remembers ("config-files": removed but
# not purged; "not-installed"; half-done states).  A package whose only
# pending work is running triggers is unpacked and configured: it counts.
_DPKG_PRESENT = frozenset({"installed", "triggers-pending", "triggers-awaiting"})


def parse_dpkg(stdout: str) -> Mapping[str, str]:
    installed: dict[str, str] = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        name, version, status = (field.strip() for field in fields)
        if name and version and status in _DPKG_PRESENT:
            installed[name] = version
    return installed


def parse_rpm(stdout: str) -> Mapping[str, str]:
    installed: dict[str, str] = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 2:
            continue
        name, version = (field.strip() for field in fields)
        if name and version:
            installed[name] = version
    return installed


DPKG_PACKAGES: Fact[Mapping[str, str]] = Fact(
    name="packages_dpkg",
    command=Command.of("dpkg-query", "-W", "-f", r"${Package}\t${Version}\t${db:Status-Status}\n"),
    parse=parse_dpkg,
)

RPM_PACKAGES: Fact[Mapping[str, str]] = Fact(
    name="packages_rpm",
    command=Command.of("rpm", "-qa", "--qf", r"%{NAME}\t%{VERSION}-%{RELEASE}\n"),
    parse=parse_rpm,
)

_BY_FAMILY: Mapping[str, Fact[Mapping[str, str]]] = {
    "debian": DPKG_PACKAGES,
    "rhel": RPM_PACKAGES,
}


def installed_packages_fact(family: str) -> Fact[Mapping[str, str]]:
    """The installed-packages fact for an OS family (see :attr:`OsInfo.family`).

    Raises ``ValueError`` for other families: callers check support first.
    """
    try:
        return _BY_FAMILY[family]
    except KeyError:
        raise ValueError(f"no package fact for OS family {family!r}") from None


def missing(installed: Mapping[str, str], wanted: Iterable[str]) -> list[str]:
    """The wanted package names that are not installed, sorted and without repeats."""
    return sorted({name for name in wanted if name not in installed})
