"""The ``logs`` section of a cluster's settings in the inventory: whether the logs
stage was applied (an apply that succeeded) and slapd's log level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clustermgr.components.logs.settings import (
    SLAPD_LOG_LEVEL_KEY,
    checked_slapd_log_level,
    slapd_log_level,
)
from clustermgr.core.manager import Manager
from clustermgr.inventory.models import Cluster, Server
from clustermgr.inventory.schemas import ClusterSettings

COMPONENT = "logs"


def _section(raw: dict[str, Any] | None) -> dict[str, Any]:
    return ClusterSettings.model_validate(raw or {}).section(COMPONENT)


async def wanted_slapd_log_level(manager: Manager, cluster_name: str) -> str:
    """The slapd log level ``cluster_name`` asks for."""
    async with manager.store() as store:
        return slapd_log_level(_section((await store.cluster(cluster_name)).settings))


async def set_slapd_log_level(manager: Manager, cluster_name: str, level: str) -> None:
    """Keep ``level`` as ``cluster_name``'s slapd log level (the next apply sets it);
    InvalidInput for a level not allowed, and nothing is kept."""
    checked = checked_slapd_log_level(level)
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        section = _section(cluster.settings)
        store.set_component_settings(cluster, COMPONENT, {**section, SLAPD_LOG_LEVEL_KEY: checked})


async def mark_applied(manager: Manager, cluster_name: str) -> None:
    """Note that ``cluster_name``'s servers got the follower: its logs are collected."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        section = _section(cluster.settings)
        if not section.get("applied"):
            store.set_component_settings(cluster, COMPONENT, {**section, "applied": True})


async def applied_clusters(manager: Manager) -> list[str]:
    """The clusters the logs stage was applied on that have servers still (the
    component's ``set_up_in``): one query, no SSH."""
    async with manager.store() as inventory:
        rows = await inventory.session.execute(
            select(Cluster.name, Cluster.settings)
            .where(Cluster.id.in_(select(Server.cluster_id)))
            .order_by(Cluster.name)
        )
        return [name for name, raw in rows if _section(raw).get("applied")]
