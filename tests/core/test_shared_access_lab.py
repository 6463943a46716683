"""shared_access on the session lab (reads only): one SSH connection per host for
everything inside it, reads remembered until a write, nothing shared outside it."""

from __future__ import annotations

import asyncio

from clustermgr.core.access import open_access, shared_access
from clustermgr.core.manager import Manager
from clustermgr.facts.base import Fact, gather
from clustermgr.remote.command import Command
from labfixture import Lab

#: A read whose answer changes every time it really runs.
NOW = Fact("now", Command.of("date", "+%s%N"), lambda out: out.strip())


async def test_stages_inside_share_connections_and_reads(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        cluster = lab.config.cluster
        node = lab.host("idp1").fqdn
        async with shared_access(manager, cluster) as shared:
            async with await open_access(manager, cluster, [node]) as first:
                conn = await first.connection(node)
                before = await gather(conn, NOW)
                assert list(first.servers) == [node], "a view shows the servers asked for"
            # The first view is closed; the second gets the same, still open, connection.
            async with await open_access(manager, cluster) as second:
                assert await second.connection(node) is conn
                assert await gather(await second.connection(node), NOW) == before, "remembered"
                await conn.run(Command.of("true"))
                await asyncio.sleep(0.01)
                assert await gather(conn, NOW) != before, "a command forgets what was read"
            async with shared_access(manager, cluster) as nested:
                assert nested is shared, "nested, the outer access is kept"
            # Another cluster's name, or the watcher's own settings: not lent.
            own = await open_access(manager, cluster, settings=manager.settings)
            async with own:
                assert await own.connection(node) is not conn
        async with await open_access(manager, cluster) as outside:
            fresh = await outside.connection(node)
            assert fresh is not conn
            assert await gather(fresh, NOW) != await gather(fresh, NOW), "outside: always read"
    finally:
        await manager.close()
