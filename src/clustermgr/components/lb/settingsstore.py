"""Read and change the cluster's load balancer settings (kept in the inventory).

:func:`change` is the one way every front end changes them: the change is
validated by :class:`LbSettingsUpdate` (and the result by :class:`LbSettings`),
saved, and audited under the actor.  Changing them is for admins (``as_role``:
the caller's role; the CLI acts as admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.components.lb.findings import COMPONENT
from clustermgr.components.lb.settings import LbSettings, LbSettingsUpdate
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.models import Cluster, Server
from clustermgr.inventory.schemas import ClusterSettings, nodes
from clustermgr.topology import Role


async def lb_settings(manager: Manager, cluster_name: str) -> LbSettings:
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        return _section(cluster.settings)


async def change(
    manager: Manager,
    cluster_name: str,
    update: LbSettingsUpdate | Mapping[str, Any],
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> LbSettings:
    """Validate ``update``, apply it to the cluster's settings and save them.

    Writes one audit entry under ``actor`` (a refused change too);
    InvalidInput says what is wrong.
    """
    raw = update.model_dump(exclude_unset=True) if isinstance(update, BaseModel) else update
    detail = {"changes": dict(raw)}
    async with audit.audited(
        manager, actor=actor, action="lb.settings", target=cluster_name, detail=detail
    ):
        require(as_role, UserRole.ADMIN, "changing the load balancer's settings")
        change = _parse(LbSettingsUpdate, raw)
        async with manager.store() as store:
            cluster = await store.cluster(cluster_name)
            try:
                changed = change.applied_to(_section(cluster.settings))
            except (ValueError, ValidationError) as exc:
                raise _invalid(exc) from None
            store.set_component_settings(cluster, COMPONENT, _dump(changed))
    return changed


def _parse(model: type[LbSettingsUpdate], raw: Mapping[str, Any]) -> LbSettingsUpdate:
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValueError) -> InvalidInput:
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
    else:
        problems = str(exc)
    return InvalidInput(f"invalid load balancer settings: {problems}")


async def mark_applied(manager: Manager, cluster_name: str) -> None:
    """Record that ``lb apply`` set the balancer up (the watcher checks it from now on)."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        settings = _section(cluster.settings)
        if not settings.applied:
            changed = settings.model_copy(update={"applied": True})
            store.set_component_settings(cluster, COMPONENT, _dump(changed))


async def applied_clusters(manager: Manager) -> list[str]:
    """Clusters whose balancer ``lb apply`` set up, with a proxy and identity servers
    still (one query, no SSH)."""
    async with manager.store() as inventory:
        proxies = select(Server.cluster_id).where(Server.role == Role.PROXY.value)
        nodes = select(Server.cluster_id).where(Server.role == Role.IDENTITY.value)
        rows = await inventory.session.execute(
            select(Cluster.name, Cluster.settings)
            .where(Cluster.id.in_(proxies), Cluster.id.in_(nodes))
            .order_by(Cluster.name)
        )
        return [name for name, settings in rows if _section(settings).applied]


async def set_drained(manager: Manager, cluster_name: str, hostname: str, drained: bool) -> bool:
    """Mark ``hostname`` drained (or not); True when that changed anything.

    Refuses to drain the last identity node still in rotation.
    """
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        settings = _section(cluster.settings)
        identity = [s.hostname for s in nodes(cluster.servers, Role.IDENTITY, serving=True)]
        if hostname not in identity:
            raise InvalidInput(f"{hostname!r} is not an identity server of {cluster_name!r}")
        now = set(settings.drained)
        wanted = now | {hostname} if drained else now - {hostname}
        if wanted == now:
            return False
        if not set(identity) - wanted:
            raise InvalidInput(
                f"draining {hostname} would leave no identity node behind the load balancer"
            )
        changed = settings.model_copy(update={"drained": sorted(wanted)})
        store.set_component_settings(cluster, COMPONENT, _dump(changed))
        return True


def _section(settings: dict[str, Any] | None) -> LbSettings:
    try:
        return LbSettings.model_validate(
            ClusterSettings.model_validate(settings or {}).section(COMPONENT)
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def _dump(settings: LbSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude_defaults=True)
