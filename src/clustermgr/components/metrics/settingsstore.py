"""The ``metrics`` section of a cluster's settings: whether its exporters were set up
(an apply that succeeded) and how often the watcher scrapes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.inventory.models import Cluster, Server
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.settings import Settings

COMPONENT = "metrics"


def _section(raw: dict[str, Any] | None) -> dict[str, Any]:
    return ClusterSettings.model_validate(raw or {}).section(COMPONENT)


def scrape_seconds(settings: Settings, cluster_settings: dict[str, Any] | None) -> float:
    """A cluster's scrape interval: its ``metrics`` settings' ``scrape_seconds``, else the
    manager's default."""
    value = _section(cluster_settings).get("scrape_seconds")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return float(value)
    return settings.metrics_scrape_seconds


async def mark_applied(manager: Manager, cluster_name: str) -> None:
    """Note that ``cluster_name``'s exporters are set up: the watcher scrapes it from now."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        section = _section(cluster.settings)
        if not section.get("applied"):
            store.set_component_settings(cluster, COMPONENT, {**section, "applied": True})


async def scraped_clusters(manager: Manager) -> dict[str, float]:
    """Every cluster whose exporters an apply set up and that has servers still, with its
    scrape interval (one query, no SSH)."""
    async with manager.store() as inventory:
        rows = await inventory.session.execute(
            select(Cluster.name, Cluster.settings)
            .where(Cluster.id.in_(select(Server.cluster_id)))
            .order_by(Cluster.name)
        )
        return {
            name: scrape_seconds(manager.settings, raw)
            for name, raw in rows
            if _section(raw).get("applied")
        }


async def applied_clusters(manager: Manager) -> list[str]:
    """The clusters monitoring is set up on (the component's ``set_up_in``)."""
    return list(await scraped_clusters(manager))
