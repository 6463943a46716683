"""The logs section of a cluster's settings: the applied mark and slapd's log level."""

from __future__ import annotations

import pytest

from clustermgr.components.logs.component import COMPONENT
from clustermgr.components.logs.settingsstore import (
    applied_clusters,
    mark_applied,
    set_slapd_log_level,
    wanted_slapd_log_level,
)
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.models import Server
from clustermgr.services import clusters


async def add_server(manager: Manager, cluster: str) -> None:
    async with manager.store() as store:
        found = await store.cluster(cluster)
        store.session.add(
            Server(
                cluster_id=found.id,
                hostname="idp1",
                role="identity",
                address="192.0.2.1",
                ssh_port=22,
                ssh_user="root",
            )
        )


async def test_a_cluster_is_set_up_once_applied_while_it_has_servers(manager: Manager) -> None:
    await clusters.create_cluster(manager, "empty")
    await clusters.create_cluster(manager, "prod")
    await add_server(manager, "prod")
    assert await applied_clusters(manager) == []
    assert not await COMPONENT.set_up(manager, "prod")
    await mark_applied(manager, "empty")
    await mark_applied(manager, "prod")
    await mark_applied(manager, "prod")
    assert await applied_clusters(manager) == ["prod"], "a cluster without servers is not"
    assert await COMPONENT.set_up(manager, "prod")


async def test_the_log_level_is_kept_and_a_bad_one_refused(manager: Manager) -> None:
    await clusters.create_cluster(manager, "prod")
    assert await wanted_slapd_log_level(manager, "prod") == "stats"
    await mark_applied(manager, "prod")
    await set_slapd_log_level(manager, "prod", "sync")
    assert await wanted_slapd_log_level(manager, "prod") == "sync"
    with pytest.raises(InvalidInput, match="not a slapd log level"):
        await set_slapd_log_level(manager, "prod", "verbose")
    assert await wanted_slapd_log_level(manager, "prod") == "sync", "nothing lost"
    await add_server(manager, "prod")
    assert await applied_clusters(manager) == ["prod"], "the applied mark kept"
