"""The logs section of a cluster's settings: the applied mark, slapd's log level and
the retention, changed checked, audited and by admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole
from clustermgr.components.logs.component import COMPONENT
from clustermgr.components.logs.settingsstore import (
    applied_clusters,
    change_settings,
    cluster_logs_settings,
    mark_applied,
    set_slapd_log_level,
    wanted_slapd_log_level,
)
from clustermgr.core.manager import Manager
from clustermgr.errors import Forbidden, InvalidInput
from clustermgr.inventory.models import Server
from clustermgr.services import clusters

VIEWER = UserRole.VIEWER


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


async def test_the_settings_change_checked_audited_and_for_admins(manager: Manager) -> None:
    await clusters.create_cluster(manager, "prod")
    assert (await cluster_logs_settings(manager, "prod")).as_dict() == {
        "slapd_log_level": "stats",
        "max_age_days": 14,
        "max_megabytes": 1024,
    }
    done = await change_settings(
        manager, "prod", {"max_age_days": "7", "slapd_log_level": "STATS sync"}, actor="ann"
    )
    assert done.level_changed and done.after.max_age_days == 7
    assert done.after.slapd_log_level == "stats sync" and done.after.max_megabytes == 1024
    assert done.after.max_age == timedelta(days=7) and done.after.max_bytes == 1024 * 2**20
    again = await change_settings(manager, "prod", {"max_megabytes": 50}, actor="ann")
    assert not again.level_changed and again.after.max_age_days == 7, "the others stay"
    for update, said in (
        ({"max_age_days": 0}, "invalid max_age_days: 0 is not a whole number from 1 to 3,650"),
        ({"max_age_days": 3651}, "max_age_days"),
        ({"max_megabytes": "1e3"}, "max_megabytes"),
        ({"max_megabytes": True}, "max_megabytes"),
        ({"max_megabytes": 10, "max_age_days": -1}, "max_age_days"),
        ({"slapd_log_level": "loud"}, "not a slapd log level"),
        ({"keep": 3}, "unknown logs setting 'keep'"),
    ):
        with pytest.raises(InvalidInput, match=said):
            await change_settings(manager, "prod", update, actor="ann")
    with pytest.raises(Forbidden):
        await change_settings(manager, "prod", {"max_age_days": 1}, actor="vic", as_role=VIEWER)
    kept = await cluster_logs_settings(manager, "prod")
    assert (kept.max_age_days, kept.max_megabytes) == (7, 50), "nothing kept on an error"
    entries = [e for e in await audit.entries(manager) if e.action == "logs.settings"]
    assert [(e.actor, e.result) for e in entries].count(("ann", "ok")) == 2
    assert ("vic", "refused") in [(e.actor, e.result) for e in entries]
