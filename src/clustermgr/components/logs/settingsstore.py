"""The ``logs`` section of a cluster's settings in the inventory: whether the logs
stage was applied (an apply that succeeded), slapd's log level and the retention.

:func:`change_settings` is the one way every front end changes them: checked, saved
and audited under the actor (``logs.settings``); for admins (``as_role``: the
caller's role; the CLI acts as admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from clustermgr.auth.roles import UserRole
from clustermgr.components.logs.settings import (
    SLAPD_LOG_LEVEL_KEY,
    LogsSettings,
    changed,
    checked_slapd_log_level,
    logs_settings,
    slapd_log_level,
)
from clustermgr.core.manager import Manager
from clustermgr.inventory.models import Cluster, Server
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.services.componentsettings import change_section

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


async def cluster_logs_settings(manager: Manager, cluster_name: str) -> LogsSettings:
    """``cluster_name``'s logs settings (NotFound for an unknown cluster)."""
    async with manager.store() as store:
        return logs_settings(_section((await store.cluster(cluster_name)).settings))


@dataclass(frozen=True)
class SettingsChange:
    """The settings before and after a change."""

    before: LogsSettings
    after: LogsSettings

    @property
    def level_changed(self) -> bool:
        """slapd's level changed: the logs stage's apply sets it on the nodes."""
        return self.before.slapd_log_level != self.after.slapd_log_level


async def change_settings(
    manager: Manager,
    cluster_name: str,
    update: Mapping[str, Any],
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> SettingsChange:
    """Keep the values of ``update`` as ``cluster_name``'s logs settings (the keys not
    given stay): :func:`~clustermgr.services.componentsettings.change_section`."""
    before, after = await change_section(
        manager,
        cluster_name,
        COMPONENT,
        update,
        lambda raw: changed(logs_settings(raw), update).as_dict(),
        actor=actor,
        as_role=as_role,
        what="the logs settings",
    )
    return SettingsChange(logs_settings(before), logs_settings(after))


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
