"""A component's section of a cluster's settings: read, and changed in one audited step.

Every front end changes a component's settings through its ``change_settings``, which
checks the values and calls :func:`change_section`: for admins, one audit entry
``COMPONENT.settings`` with the values asked for (a refused change too), and nothing
kept when a value is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.manager import Manager
from clustermgr.inventory.models import Cluster
from clustermgr.inventory.schemas import ClusterSettings

#: A changed section (what it gives replaces the section's keys of the same name),
#: from the section as it is; InvalidInput for a value not allowed.
Change = Callable[[dict[str, Any]], Mapping[str, Any]]


def section_of(cluster: Cluster, component: str) -> dict[str, Any]:
    """``component``'s section of the cluster's settings (empty when it has none)."""
    return ClusterSettings.model_validate(cluster.settings or {}).section(component)


async def change_section(
    manager: Manager,
    cluster_name: str,
    component: str,
    update: Mapping[str, Any],
    change: Change,
    *,
    actor: str,
    as_role: UserRole,
    what: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep ``change(section)`` over ``component``'s section of ``cluster_name``'s
    settings (``update``: the values asked for, as the audit entry shows them; ``what``:
    the settings' name for a refusal, "the logs settings").  The section before and
    after."""
    detail = {"changes": {k: str(v)[:80] for k, v in update.items()}}
    async with audit.audited(
        manager, actor=actor, action=f"{component}.settings", target=cluster_name, detail=detail
    ):
        require(as_role, UserRole.ADMIN, f"changing {what}")
        async with manager.store() as store:
            cluster = await store.cluster(cluster_name)
            before = section_of(cluster, component)
            after = {**before, **change(before)}
            store.set_component_settings(cluster, component, after)
    return before, after
