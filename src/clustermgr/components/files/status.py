"""The cluster files now: each node's digest of each file against the sealed copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clustermgr.components.files.desired import Desired, desired
from clustermgr.components.files.model import (
    COMPONENT,
    Node,
    carried,
    compare,
    digest,
    digest_command,
    parse_digests,
)
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.monitor import store
from clustermgr.monitor.views import AlertView
from clustermgr.monitor.watching import check_settings
from clustermgr.remote.pool import run_on_hosts
from clustermgr.topology import cluster_file


async def read_nodes(access: HostAccess, want: Desired, *, timeout: float) -> tuple[Node, ...]:
    """Every node's digests (one command per node, side by side); a node that does not
    answer says why."""
    sealed = want.sealed or {}

    async def one(host: str) -> Node:
        specs = carried(sealed, want.nodes[host])
        root = (await access.platform(host)).gluu_root
        paths = [spec.on(root) for spec in specs]
        result = await (await access.connection(host)).run(digest_command(paths), timeout=timeout)
        if not result.ok:
            return Node(host, error=f"reading the digests failed (exit {result.exit_status})")
        try:
            found = parse_digests(paths, result.stdout)
        except ValueError:
            return Node(host, error="the digests came back unreadable")
        return Node(host, compare(sealed, specs, found))

    hosts = list(want.nodes)
    results = await run_on_hosts(hosts, one)
    nodes = []
    for host in hosts:
        if host in results.succeeded:
            nodes.append(results.succeeded[host])
        else:
            failure = results.failed[host]
            reason = (
                failure.message if isinstance(failure, ClustermgrError) else type(failure).__name__
            )
            nodes.append(Node(host, error=reason))
    return tuple(nodes)


@dataclass(frozen=True)
class FilesStatus:
    cluster: str
    #: Path -> SHA-256 of the sealed copy; None before any was read.
    sealed: dict[str, str] | None
    nodes: tuple[Node, ...] = ()
    open_alerts: list[AlertView] = field(default_factory=list)

    @property
    def drifted(self) -> list[tuple[str, str]]:
        """(host, path) of every file a node holds otherwise than sealed."""
        return [(n.host, f.path) for n in self.nodes for f in n.drifted]

    @property
    def ok(self) -> bool:
        """Sealed, every node read, and every file its sealed copy."""
        return self.sealed is not None and not any(n.error or n.drifted for n in self.nodes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "sealed": None
            if self.sealed is None
            else [
                {
                    "path": path,
                    "what": cluster_file(path).what,
                    "secret": cluster_file(path).secret,
                    "sha256": sha,
                }
                for path, sha in self.sealed.items()
            ],
            "nodes": [
                {
                    "host": n.host,
                    "error": n.error,
                    "files": [
                        {"path": f.path, "state": f.state.value, "sha256": f.sha256}
                        for f in n.files
                    ],
                }
                for n in self.nodes
            ],
            "drifted": [{"host": h, "path": p} for h, p in self.drifted],
            "open_alerts": [a.as_dict() for a in self.open_alerts],
        }


def sealed_digests(want: Desired) -> dict[str, str] | None:
    return None if want.sealed is None else {p: digest(c) for p, c in want.sealed.items()}


async def status(manager: Manager, cluster: str) -> FilesStatus:
    """Read every node's digests now (nothing is changed or recorded), and the open alerts."""
    want = await desired(manager, cluster)
    open_alerts = await store.alerts(manager, cluster, open_only=True, component=COMPONENT)
    if want.sealed is None or not want.nodes:
        return FilesStatus(cluster, sealed_digests(want), open_alerts=open_alerts)
    settings = check_settings(manager.settings)
    async with await open_access(manager, cluster, list(want.nodes), settings=settings) as access:
        nodes = await read_nodes(access, want, timeout=settings.watch_timeout)
    return FilesStatus(cluster, sealed_digests(want), nodes, open_alerts)
