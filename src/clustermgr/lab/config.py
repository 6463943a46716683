"""The lab's shape and its naming rules: one place for every name and address.

A lab is a bridge in the root network namespace and one network namespace per
host.  Everything the lab creates carries the lab's ``prefix``, so ``down`` can
find and remove it all even when the state file was never written (an ``up``
killed halfway).  The test suite uses its own prefix and subnet, so it never
touches a lab a person is using on the same machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from clustermgr.lab.gluu.package import deb_filename
from clustermgr.topology import Role

#: Linux limits interface names to 15 characters.
IFNAME_MAX = 15
FIRST_HOST_OCTET = 11
#: The lab's apt repository: its port on the bridge's address, its suite and component.
APT_REPO_PORT = 8790
APT_SUITE = "lab"
APT_COMPONENT = "main"


class HostState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    ABSENT = "absent"


@dataclass(frozen=True)
class LabHost:
    index: int  # 0-based, stable: it numbers the address and the interface
    name: str  # short name: idp1, idp2, proxy1
    role: Role
    fqdn: str
    address: str
    netns: str
    veth: str  # the root-namespace end; the host sees eth0


@dataclass(frozen=True)
class AptRepo:
    """The lab's signed apt repository, as a host (and the installer) uses it."""

    #: ``http://<bridge address>:<APT_REPO_PORT>/``: reachable from the lab's hosts.
    url: str
    suite: str
    component: str
    #: The repository's signing key, ASCII-armored (for ``/etc/apt/keyrings``).
    public_key: Path
    #: The ``gluu-server`` package file the repository serves (the offline path's file).
    deb: Path

    def sources_line(self, keyring: str) -> str:
        """The one-line-style source naming this repository, signed by ``keyring``."""
        return f"deb [signed-by={keyring}] {self.url} {self.suite} {self.component}"


@dataclass(frozen=True)
class LabConfig:
    state_dir: Path
    prefix: str = "cmlab"
    #: A /24 in which the bridge is .1 and hosts start at .11.
    subnet: str = "10.231.0.0/24"
    domain: str = "lab.test"
    identity_nodes: int = 2
    proxies: int = 1
    cluster: str = "lab"

    def __post_init__(self) -> None:
        if len(self.veth_name(99)) > IFNAME_MAX or len(self.bridge) > IFNAME_MAX:
            raise ValueError(f"lab prefix {self.prefix!r} is too long for interface names")
        if self.identity_nodes + self.proxies > 200:
            raise ValueError("a lab holds at most 200 hosts")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    @property
    def bridge(self) -> str:
        return f"{self.prefix}-br"

    @property
    def bridge_address(self) -> str:
        return str(self.network.network_address + 1)

    def veth_name(self, index: int) -> str:
        return f"{self.prefix}-v{index}"

    def netns_name(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def hosts(self) -> list[LabHost]:
        roles = [Role.IDENTITY] * self.identity_nodes + [Role.PROXY] * self.proxies
        counters = {Role.IDENTITY: 0, Role.PROXY: 0}
        out = []
        for index, role in enumerate(roles):
            counters[role] += 1
            name = f"{'idp' if role is Role.IDENTITY else 'proxy'}{counters[role]}"
            out.append(
                LabHost(
                    index=index,
                    name=name,
                    role=role,
                    fqdn=f"{name}.{self.domain}",
                    address=str(self.network.network_address + FIRST_HOST_OCTET + index),
                    netns=self.netns_name(name),
                    veth=self.veth_name(index),
                )
            )
        return out

    @property
    def public_hostname(self) -> str | None:
        """The name the lab's cluster is reached by, and every identity node's issuer:
        the (first) proxy's, as clustermgr defaults it; None without a proxy (each
        node then names itself)."""
        proxies = [h.fqdn for h in self.hosts() if h.role is Role.PROXY]
        return proxies[0] if proxies else None

    def host(self, name: str) -> LabHost:
        for host in self.hosts():
            if name in (host.name, host.fqdn):
                return host
        known = ", ".join(h.name for h in self.hosts())
        raise KeyError(f"no lab host {name!r} (the lab has {known})")

    # --- files ------------------------------------------------------------

    def host_dir(self, name: str) -> Path:
        return self.state_dir / "hosts" / name

    @property
    def ssh_key(self) -> Path:
        return self.state_dir / "lab_ed25519"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "lab.json"

    @property
    def apt_dir(self) -> Path:
        """The apt repository's folder: its signing key (0600), server, ``repo/`` served."""
        return self.state_dir / "apt"

    @property
    def apt_repo(self) -> AptRepo:
        repo = self.apt_dir / "repo"
        return AptRepo(
            url=f"http://{self.bridge_address}:{APT_REPO_PORT}/",
            suite=APT_SUITE,
            component=APT_COMPONENT,
            public_key=self.apt_dir / "lab-archive-key.asc",
            deb=repo / "pool" / APT_COMPONENT / deb_filename(),
        )
