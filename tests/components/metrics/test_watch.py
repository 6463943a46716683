"""The scrape's decisions that need no server: when a cluster is due, how long a server
has been unreachable, when a connection counts as lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clustermgr.components.metrics.scrape import connection_lost, readers_for
from clustermgr.components.metrics.settingsstore import (
    applied_clusters,
    mark_applied,
    scrape_seconds,
    scraped_clusters,
)
from clustermgr.components.metrics.watch import MetricsWatch, unreachable_finding
from clustermgr.core.manager import Manager
from clustermgr.errors import CommandTimeout, HostUnreachable, RemoteError
from clustermgr.inventory.models import Server
from clustermgr.monitor.alerts import Severity
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role


def test_an_unreachable_server_is_a_warning_then_critical() -> None:
    first = unreachable_finding("idp1", "no route", 0, after=30)
    later = unreachable_finding("idp1", "no route", 31, after=30)
    assert (first.key, first.severity) == ("host-unreachable:idp1", Severity.WARNING)
    assert later.severity is Severity.CRITICAL and "31 s" in later.message
    assert later.details == "no route"


@pytest.mark.parametrize(
    ("section", "seconds"),
    [(None, 10.0), ({}, 10.0), ({"scrape_seconds": 30}, 30.0), ({"scrape_seconds": 0}, 10.0)],
)
def test_a_cluster_may_set_its_own_scrape_interval(
    section: dict[str, Any] | None, seconds: float
) -> None:
    settings = Settings(metrics_scrape_seconds=10)
    raw = None if section is None else {"components": {"metrics": section}}
    assert scrape_seconds(settings, raw) == seconds


async def test_a_cluster_is_due_once_its_interval_has_passed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, watch_interval=5, metrics_scrape_seconds=10)
    manager = await Manager.open(settings)
    try:
        watch = MetricsWatch(manager)
        await clusters.create_cluster(manager, "prod")
        async with manager.store() as store:
            cluster = await store.cluster("prod")
            store.set_component_settings(
                cluster, "metrics", {"scrape_seconds": 20, "applied": True}
            )
            store.session.add(
                Server(
                    cluster_id=cluster.id,
                    hostname="idp1",
                    role="identity",
                    address="192.0.2.1",
                    ssh_port=22,
                    ssh_user="root",
                )
            )
        assert await watch.clusters() == ["prod"]
        assert watch.tick(settings) == 5
        assert watch.due("prod", 100.0)  # never scraped
        watch.scraped("prod", 100.0)
        assert not watch.due("prod", 110.0)
        assert watch.due("prod", 117.5)  # half a tick early counts
    finally:
        await manager.close()


def test_a_connection_is_lost_when_it_dropped_or_every_source_timed_out() -> None:
    dropped = HostUnreachable("h", "lost")
    slow = CommandTimeout("h", "slow")
    assert connection_lost([[], dropped]) is dropped
    assert connection_lost([slow, slow]) is slow
    assert connection_lost([slow, []]) is None  # one source answered
    assert connection_lost([slow, RemoteError("h", "refused")]) is None


def test_each_role_has_its_sources() -> None:
    assert [r.source.value for r in readers_for(Role.IDENTITY)] == ["node", "ldap", "redis"]
    assert [r.source.value for r in readers_for(Role.PROXY)] == ["node", "twemproxy", "nginx"]


async def test_the_clusters_scraped_are_those_set_up_with_servers(manager: Manager) -> None:
    await clusters.create_cluster(manager, "empty")
    await clusters.create_cluster(manager, "prod")
    async with manager.store() as store:
        cluster = await store.cluster("prod")
        store.session.add(
            Server(
                cluster_id=cluster.id,
                hostname="idp1",
                role="identity",
                address="192.0.2.1",
                ssh_port=22,
                ssh_user="root",
            )
        )
    assert await scraped_clusters(manager) == {}, "no exporters set up: nothing scraped"
    await mark_applied(manager, "empty")
    await mark_applied(manager, "prod")
    assert list(await scraped_clusters(manager)) == ["prod"], "a cluster without servers is not"
    assert await applied_clusters(manager) == ["prod"]
