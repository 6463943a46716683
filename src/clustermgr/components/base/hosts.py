"""The cluster's block in /etc/hosts.

Every member must resolve every other member by the hostname it answers to
(OpenLDAP matches ``olcServerID`` URLs against its own name and refuses IP
URLs).  clustermgr owns one marked block; lines outside it are left alone, and
any of them that names a member differently is reported, since the resolver
takes the first match.  A name a line outside already maps to the member's
address is not repeated in the block: the host's own line (its installer wrote
it) stays, and the file holds each mapping once.  The cluster's name, each hostname and each address
are checked against their allow-lists (:mod:`clustermgr.validation`) before
they are written: none can add a line of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def block_lines(
    cluster: str, servers: Sequence[ServerView], known: Mapping[str, set[str]] | None = None
) -> list[str]:
    """The marked block: each member's address and names.

    ``known``: name -> addresses that lines outside the block already map it to.
    A name already mapped to the member's own address is not repeated (a host's
    own line, written at installation, stays the one that says it); a member
    whose names are all known that way gets no line of its own.
    """
    begin, end = markers(cluster)
    known = known or {}
    lines = [begin]
    for server in sorted(servers, key=lambda s: s.hostname):
        address, hostname = checked(ADDRESS, server.address), checked(HOSTNAME, server.hostname)
        if not is_ip(address):
            continue  # known by DNS only: nothing to pin here
        short = hostname.split(".")[0]
        names = [n for n in dict.fromkeys((hostname, short)) if address not in known.get(n, ())]
        if names:
            lines.append(f"{address}\t{' '.join(names)}")
    lines.append(end)
    return lines


def render_hosts(current: str, cluster: str, servers: Sequence[ServerView]) -> HostsFile:
    """``current`` with the cluster's block added or replaced in place."""
    begin, end = markers(cluster)
    outside: list[str] = []
    at: int | None = None  # where the block goes among the lines outside it
    inside = False
    for line in current.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
            continue
        if inside:
            if stripped == end:
                inside = False
                at = len(outside) if at is None else at
            continue
        outside.append(line)
    if inside:  # a block with no end marker: everything after the begin marker was ours
        at = len(outside) if at is None else at
    block = block_lines(cluster, servers, _mapped(outside))
    at = len(outside) if at is None else at
    out = [*outside[:at], *block, *outside[at:]]
    return HostsFile("\n".join(out) + "\n", tuple(_conflicts(outside, servers)))


def _fields(line: str) -> tuple[str, list[str]] | None:
    """A hosts line's address and names, None for a comment or a blank line."""
    fields = line.split("#", 1)[0].split()
    return (fields[0], fields[1:]) if len(fields) >= 2 else None


def _mapped(lines: Sequence[str]) -> dict[str, set[str]]:
    """name (lower case) -> the addresses ``lines`` map it to."""
    found: dict[str, set[str]] = {}
    for line in lines:
        parsed = _fields(line)
        if parsed is not None:
            for name in parsed[1]:
                found.setdefault(name.lower(), set()).add(parsed[0])
    return found


def _conflicts(lines: list[str], servers: Sequence[ServerView]) -> list[str]:
    wanted = {s.hostname: s.address for s in servers if is_ip(s.address)}
    wanted |= {name.split(".")[0]: addr for name, addr in list(wanted.items())}
    found = []
    for line in lines:
        parsed = _fields(line)
        if parsed is None:
            continue
        address, names = parsed
        for name in names:
            if name.lower() in wanted and wanted[name.lower()] != address:
                found.append(line.strip())
                break
    return found
