"""The cluster's block in /etc/hosts.

Every member must resolve every other member by the hostname it answers to
(OpenLDAP matches ``olcServerID`` URLs against its own name and refuses IP
URLs).  clustermgr owns one marked block; lines outside it are left alone, and
any of them that names a member differently is reported, since the resolver
takes the first match.  The cluster's name, each hostname and each address
are checked against their allow-lists (:mod:`clustermgr.validation`) before
they are written: none can add a line of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr.inventory.schemas import ServerView
from clustermgr.validation import ADDRESS, CLUSTER_NAME, HOSTNAME, checked, is_ip


@dataclass(frozen=True)
class HostsFile:
    content: str
    #: Lines outside our block that map a member's name elsewhere.
    conflicts: tuple[str, ...]


def markers(cluster: str) -> tuple[str, str]:
    checked(CLUSTER_NAME, cluster)
    return (f"# BEGIN clustermgr cluster {cluster}", f"# END clustermgr cluster {cluster}")


def block_lines(cluster: str, servers: Sequence[ServerView]) -> list[str]:
    begin, end = markers(cluster)
    lines = [begin]
    for server in sorted(servers, key=lambda s: s.hostname):
        address, hostname = checked(ADDRESS, server.address), checked(HOSTNAME, server.hostname)
        if not is_ip(address):
            continue  # known by DNS only: nothing to pin here
        short = hostname.split(".")[0]
        names = hostname if short == hostname else f"{hostname} {short}"
        lines.append(f"{address}\t{names}")
    lines.append(end)
    return lines


def render_hosts(current: str, cluster: str, servers: Sequence[ServerView]) -> HostsFile:
    """``current`` with the cluster's block added or replaced in place."""
    begin, end = markers(cluster)
    block = block_lines(cluster, servers)
    out: list[str] = []
    inside = placed = False
    for line in current.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
            continue
        if inside:
            if stripped == end:
                inside = False
                out.extend(block)
                placed = True
            continue
        out.append(line)
    if inside:  # a block with no end marker: everything after the begin marker was ours
        out.extend(block)
        placed = True
    if not placed:
        out.extend(block)
    return HostsFile("\n".join(out) + "\n", tuple(_conflicts(out, block, servers)))


def _conflicts(lines: list[str], block: list[str], servers: Sequence[ServerView]) -> list[str]:
    wanted = {s.hostname: s.address for s in servers if is_ip(s.address)}
    wanted |= {name.split(".")[0]: addr for name, addr in list(wanted.items())}
    found = []
    for line in lines:
        if line in block:
            continue
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        address, names = fields[0], fields[1:]
        for name in names:
            if name.lower() in wanted and wanted[name.lower()] != address:
                found.append(line.strip())
                break
    return found
