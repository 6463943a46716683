"""Reaching the servers of the inventory: one connection per host, platform known.

On first use of a host the connection is opened with the pinned host keys and
the stored credentials, and the platform probe runs once: a non-root login
that may ``sudo`` gets ``sudo -n`` before every command from then on.

A run of many changes (a deploy's stages) shares one :class:`HostAccess` through
:func:`shared_access`: within it, :func:`open_access` for that cluster lends views of
the shared one, so every stage uses the same connection per host, and what one
stage's planner read is remembered for the next until anything changes (see
:mod:`clustermgr.remote.remembering`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.facts.base import gather
from clustermgr.facts.platform import PLATFORM, Platform
from clustermgr.inventory.schemas import ClusterView, ServerView, nodes
from clustermgr.inventory.store import cluster_view, server_view
from clustermgr.remote.connection import Connection
from clustermgr.remote.pool import ConnectionPool
from clustermgr.remote.remembering import ReadMemo, RememberingConnection
from clustermgr.remote.target import SshCredentials, SshTarget
from clustermgr.settings import Settings


class HostAccess:
    def __init__(
        self,
        settings: Settings,
        servers: Sequence[ServerView],
        credentials: dict[str, SshCredentials],
        *,
        memo: ReadMemo | None = None,
    ) -> None:
        self.settings = settings
        self.servers = {s.hostname: s for s in servers}
        self._credentials = credentials
        self._platforms: dict[str, Platform] = {}
        self._pool = ConnectionPool(self._open)
        #: Reads remembered across the connections (a shared run's), or None.
        self._memo = memo
        #: A view lent from a shared access: closing it closes nothing.
        self._lent = False

    def view(self, hostnames: Sequence[str] = ()) -> HostAccess:
        """This access's connections, for the named servers (default: all); closing the
        view leaves them open."""
        wanted = set(hostnames) or set(self.servers)
        shown = [s for name, s in self.servers.items() if name in wanted]
        lent = HostAccess(self.settings, shown, self._credentials, memo=self._memo)
        lent._pool, lent._platforms, lent._lent = self._pool, self._platforms, True
        return lent

    def target(self, hostname: str) -> SshTarget:
        server = self.servers.get(hostname)
        if server is None:
            raise NotFound(f"{hostname} is not in this cluster")
        return SshTarget(hostname, server.address, server.ssh_port, server.ssh_user)

    async def _open(self, hostname: str) -> Connection:
        from clustermgr.remote.ssh import connect  # AsyncSSH loads with the first connection

        conn = await connect(
            self.target(hostname),
            self._credentials.get(hostname, SshCredentials()),
            self.servers[hostname].host_keys,
            connect_timeout=self.settings.connect_timeout,
            command_timeout=self.settings.command_timeout,
        )
        try:
            platform = await gather(conn, PLATFORM)
        except BaseException:
            await conn.close()
            raise
        if not platform.is_root and platform.sudo:
            conn.set_prefix(platform.privilege_prefix())
        self._platforms[hostname] = platform
        return conn if self._memo is None else RememberingConnection(conn, self._memo)

    async def connection(self, hostname: str) -> Connection:
        return await self._pool.get(hostname)

    async def discard(self, hostname: str) -> None:
        """Forget ``hostname``'s connection (it dropped or hangs): the next use reconnects."""
        await self._pool.discard(hostname)

    async def platform(self, hostname: str) -> Platform:
        await self._pool.get(hostname)
        return self._platforms[hostname]

    async def close(self) -> None:
        if not self._lent:
            await self._pool.close()

    async def __aenter__(self) -> HostAccess:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def get_cluster(manager: Manager, name: str) -> ClusterView:
    async with manager.store() as store:
        return cluster_view(await store.cluster(name))


#: The access a shared run lends, with its cluster's name (see :func:`shared_access`).
_SHARED: ContextVar[tuple[str, HostAccess] | None] = ContextVar("shared_access", default=None)


@asynccontextmanager
async def shared_access(manager: Manager, cluster: str) -> AsyncIterator[HostAccess]:
    """Within this block (and the tasks it starts), :func:`open_access` for ``cluster``
    with the manager's settings lends views of one access: one connection per host,
    reads remembered until anything writes.  Nested, the outer access is kept."""
    outer = _SHARED.get()
    if outer is not None and outer[0] == cluster:
        yield outer[1]
        return
    access = await open_access(manager, cluster)
    access._memo = ReadMemo()
    token = _SHARED.set((cluster, access))
    try:
        async with access:
            yield access
    finally:
        _SHARED.reset(token)


async def open_access(
    manager: Manager,
    cluster: str,
    hostnames: Sequence[str] = (),
    *,
    settings: Settings | None = None,
) -> HostAccess:
    """Connections to a cluster's servers, credentials decrypted: the named ones, whatever
    their state, or else every server components set up (not those ``leaving``: a node
    being taken out is contacted only by name).

    ``settings``: other timeouts than the manager's (the watcher's short ones).  Inside
    :func:`shared_access` for ``cluster``, a view of the shared access, unless a server
    asked for joined the cluster since it opened.
    """
    shared = _SHARED.get()
    lend = shared is not None and shared[0] == cluster and settings is None
    if shared is not None and lend and set(hostnames) <= set(shared[1].servers):
        return shared[1].view(hostnames)
    async with manager.store() as store:
        rows = (await store.cluster(cluster)).servers
        if not hostnames:
            rows = nodes(rows)
        else:
            wanted = set(hostnames)
            missing = wanted - {s.hostname for s in rows}
            if missing:
                raise InvalidInput(f"not in cluster {cluster!r}: {', '.join(sorted(missing))}")
            rows = [s for s in rows if s.hostname in wanted]
        views = [server_view(s, cluster) for s in rows]
        credentials = {s.hostname: store.credentials_for(s) for s in rows}
    return HostAccess(settings or manager.settings, views, credentials)
