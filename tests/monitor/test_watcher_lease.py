"""Two LDAP watchers on one database (two manager processes): one cluster, one watcher at a time.

The cluster's nodes listen nowhere (closed loopback ports), so every check ends
at once with the node unreachable: enough to see who writes the alerts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from clustermgr.components import registry
from clustermgr.components.ldap.ids import server_ids
from clustermgr.components.ldap.replicated import replicated_clusters, replicated_members
from clustermgr.components.ldap.watch import LdapWatch
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.monitor import store
from clustermgr.monitor.watcher import Watcher
from clustermgr.settings import Settings

HOSTS = ("idp1.w.test", "idp2.w.test")


@pytest.fixture
async def replicated(manager: Manager) -> str:
    async with manager.store() as inventory:
        for port, hostname in enumerate(HOSTS, start=1):
            spec = ServerSpec.parse(
                cluster="w", hostname=hostname, address="127.0.0.1", role="identity", ssh_port=port
            )
            await inventory.add_server(spec, None, [])
        cluster = await inventory.cluster("w")
        await server_ids(inventory, cluster, list(cluster.servers))
    return "w"


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[Manager]:
    """Another manager process on the same database."""
    opened = await Manager.open(settings)
    yield opened
    await opened.close()


def quick(manager: Manager) -> Watcher:
    manager.settings = manager.settings.model_copy(update={"watch_timeout": 1.0})
    return Watcher(manager, [LdapWatch(manager)], kinds=registry.job_kinds())


async def test_replicated_clusters_are_found(manager: Manager, replicated: str) -> None:
    assert await replicated_clusters(manager) == [replicated]
    assert await replicated_members(manager, replicated) == {HOSTS[0]: 1, HOSTS[1]: 2}


async def test_only_the_lease_holder_watches_and_writes(
    manager: Manager, second: Manager, replicated: str
) -> None:
    one, two = quick(manager), quick(second)
    try:
        first, other = await asyncio.gather(one.cycle(), two.cycle())
        watched = [r.watched for r in (*first, *other)]
        assert sorted(watched) == [False, True], watched
        holder, idle = (one, two) if first[0].watched else (two, one)
        opened = (first if first[0].watched else other)[0].opened
        assert sorted(a.key for a in opened) == [f"node-unreachable:{h}" for h in HOSTS]

        for _ in range(2):  # the holder renews; the other keeps out and writes nothing
            assert (await holder.cycle())[0].watched
            assert not (await idle.cycle())[0].watched
        assert len(await store.alerts(manager, replicated, open_only=False)) == 2

        await holder.close()  # a clean stop gives the lease up at once
        took_over = await idle.cycle()
        assert took_over[0].watched and took_over[0].opened == []  # the same alerts go on
    finally:
        await one.close()
        await two.close()
