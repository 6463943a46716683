"""The lab's network: a bridge, one namespace per host, veth pairs, partitions.

Only ``ip`` from iproute2, run in the root namespace.  Every function is safe
to call again: creating what exists, or deleting what is gone, is not an error.
"""

from __future__ import annotations

import subprocess

from clustermgr.errors import ClustermgrError
from clustermgr.lab.config import LabConfig, LabHost

IP = "/usr/sbin/ip"
HOST_IFNAME = "eth0"


class LabError(ClustermgrError):
    code = "lab_error"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([IP, *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise LabError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


def link_exists(name: str) -> bool:
    return ip("link", "show", "dev", name, check=False).returncode == 0


def netns_list(prefix: str) -> list[str]:
    out = ip("netns", "list").stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if n.startswith(f"{prefix}-")]


def links_with_prefix(prefix: str) -> list[str]:
    out = ip("-o", "link", "show").stdout
    names = []
    for line in out.splitlines():
        name = line.split(":", 2)[1].strip().split("@")[0]
        if name.startswith(f"{prefix}-"):
            names.append(name)
    return names


def ensure_bridge(config: LabConfig) -> None:
    if not link_exists(config.bridge):
        ip("link", "add", config.bridge, "type", "bridge")
    cidr = f"{config.bridge_address}/{config.network.prefixlen}"
    if cidr not in ip("-o", "addr", "show", "dev", config.bridge).stdout:
        ip("addr", "add", cidr, "dev", config.bridge)
    ip("link", "set", config.bridge, "up")


def ensure_host_network(config: LabConfig, host: LabHost, *, partitioned: bool) -> None:
    """The host's namespace, its veth pair on the bridge, its address, loopback up."""
    if host.netns not in netns_list(config.prefix):
        ip("netns", "add", host.netns)
    if not link_exists(host.veth):
        ip(
            "link",
            "add",
            host.veth,
            "type",
            "veth",
            "peer",
            "name",
            HOST_IFNAME,
            "netns",
            host.netns,
        )
        ip("link", "set", host.veth, "master", config.bridge)
    cidr = f"{host.address}/{config.network.prefixlen}"
    if cidr not in ip("-n", host.netns, "-o", "addr", "show", "dev", HOST_IFNAME).stdout:
        ip("-n", host.netns, "addr", "add", cidr, "dev", HOST_IFNAME)
    ip("-n", host.netns, "link", "set", "lo", "up")
    ip("-n", host.netns, "link", "set", HOST_IFNAME, "up")
    ip("link", "set", host.veth, "down" if partitioned else "up")


def link_is_up(name: str) -> bool | None:
    """Whether the link is administratively up; None when it does not exist."""
    out = ip("-o", "link", "show", "dev", name, check=False).stdout
    if "<" not in out:
        return None
    return "UP" in out.split("<", 1)[1].split(">", 1)[0].split(",")


def partition(host: LabHost) -> None:
    """Pull the cable: the root end of the host's veth pair goes down."""
    ip("link", "set", host.veth, "down")


def heal(host: LabHost) -> None:
    ip("link", "set", host.veth, "up")


def remove_all(config: LabConfig) -> list[str]:
    """Delete every namespace and link carrying the lab's prefix; say what went."""
    removed = []
    for name in netns_list(config.prefix):
        ip("netns", "delete", name, check=False)
        removed.append(f"netns {name}")
    for name in links_with_prefix(config.prefix):
        ip("link", "delete", name, check=False)
        removed.append(f"link {name}")
    return removed
