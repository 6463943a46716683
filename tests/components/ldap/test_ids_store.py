"""LDAP server ids in the inventory: stable across plans, never reused (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from clustermgr.components.ldap.ids import server_ids
from clustermgr.core.manager import Manager
from clustermgr.inventory.models import LdapServerId
from clustermgr.inventory.schemas import ServerSpec


async def add(manager: Manager, hostname: str, address: str) -> None:
    spec = ServerSpec.parse(cluster="c1", hostname=hostname, address=address, role="identity")
    async with manager.store() as store:
        await store.add_server(spec, None, [])


async def ids(manager: Manager, *, keep: bool = True) -> dict[str, int]:
    async with manager.store() as store:
        cluster = await store.cluster("c1")
        return await server_ids(store, cluster, list(cluster.servers), keep=keep)


async def stored(manager: Manager) -> list[str]:
    async with manager.store() as store:
        return sorted((await store.session.scalars(select(LdapServerId.hostname))).all())


async def test_a_plan_shows_the_ids_an_apply_keeps_and_stores_none(manager: Manager) -> None:
    await add(manager, "idp1", "10.0.0.1")
    await add(manager, "idp2", "10.0.0.2")
    assert await ids(manager, keep=False) == {"idp1": 1, "idp2": 2}
    assert await stored(manager) == [], "planning never marks a cluster as replicating"
    assert await ids(manager) == {"idp1": 1, "idp2": 2}
    assert await stored(manager) == ["idp1", "idp2"]


async def test_ids_are_stable_and_never_reused(manager: Manager) -> None:
    await add(manager, "idp1", "10.0.0.1")
    await add(manager, "idp2", "10.0.0.2")
    assert await ids(manager) == {"idp1": 1, "idp2": 2}
    assert await ids(manager) == {"idp1": 1, "idp2": 2}  # a re-plan changes nothing

    async with manager.store() as store:
        await store.remove_server("c1", "idp2")
    assert await ids(manager) == {"idp1": 1}
    async with manager.store() as store:  # the retired row stays, holding id 2
        (retired,) = await store.session.scalars(
            select(LdapServerId).where(LdapServerId.hostname == "idp2")
        )
        assert (retired.server_id, retired.server_id_ref) == (2, None)

    await add(manager, "idp3", "10.0.0.3")
    assert await ids(manager) == {"idp1": 1, "idp3": 3}

    await add(manager, "idp2", "10.0.0.2")  # back, with an empty database: a new id
    assert await ids(manager) == {"idp1": 1, "idp2": 4, "idp3": 3}
