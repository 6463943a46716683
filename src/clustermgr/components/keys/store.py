"""The ``keys`` section of a cluster's settings in the inventory: the settings, the
rotation in progress, when each key the manager made was made, and when the last
rotation finished.

:func:`change_settings` is the one way every front end changes the settings:
checked, saved and audited under the actor (``keys.settings``), for admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clustermgr.auth.roles import UserRole
from clustermgr.components.keys import keystore
from clustermgr.components.keys.keystore import KEYSTORE, Document
from clustermgr.components.keys.rotation import Rotation
from clustermgr.components.keys.settings import KeysSettings, changed, keys_settings
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.models import Cluster
from clustermgr.inventory.store import InventoryStore
from clustermgr.services import clusterfiles
from clustermgr.services.componentsettings import change_section, section_of
from clustermgr.topology import CLUSTER_FILES_SECRET

COMPONENT = "keys"
ROTATION_KEY = "rotation"
CREATED_KEY = "created"
LAST_ROTATED_KEY = "last_rotated"


def section(cluster: Cluster) -> dict[str, Any]:
    return section_of(cluster, COMPONENT)


@dataclass(frozen=True)
class KeysState:
    """What the inventory keeps for a cluster's keys."""

    settings: KeysSettings
    rotation: Rotation | None = None
    #: kid -> when the manager made it (keys it did not make are not here).
    created: dict[str, datetime] = field(default_factory=dict)
    last_rotated: datetime | None = None


def state_of(raw: Mapping[str, Any]) -> KeysState:
    rotation = raw.get(ROTATION_KEY)
    last = raw.get(LAST_ROTATED_KEY)
    return KeysState(
        keys_settings(raw),
        Rotation.from_dict(rotation) if rotation else None,
        {k: datetime.fromisoformat(v) for k, v in (raw.get(CREATED_KEY) or {}).items()},
        datetime.fromisoformat(last) if last else None,
    )


def with_state(
    raw: Mapping[str, Any],
    rotation: Rotation | None,
    *,
    created: Mapping[str, datetime] | None = None,
    last_rotated: datetime | None = None,
) -> dict[str, Any]:
    """``raw`` (the section) with the rotation in progress (None: none), and the
    creation times and last rotation when given."""
    out = {**raw, ROTATION_KEY: rotation.as_dict() if rotation else None}
    if created is not None:
        out[CREATED_KEY] = {k: v.isoformat() for k, v in created.items()}
    if last_rotated is not None:
        out[LAST_ROTATED_KEY] = last_rotated.isoformat()
    return out


async def keys_state(manager: Manager, cluster_name: str) -> KeysState:
    """``cluster_name``'s keys state (NotFound for an unknown cluster)."""
    async with manager.store() as store:
        return state_of(section(await store.cluster(cluster_name)))


def save(store: InventoryStore, cluster: Cluster, raw: dict[str, Any]) -> None:
    store.set_component_settings(cluster, COMPONENT, raw)


async def change_settings(
    manager: Manager,
    cluster_name: str,
    update: Mapping[str, Any],
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> KeysSettings:
    """Keep the values of ``update`` as ``cluster_name``'s keys settings (the keys not
    given stay): :func:`~clustermgr.services.componentsettings.change_section`."""
    _, after = await change_section(
        manager,
        cluster_name,
        COMPONENT,
        update,
        lambda raw: changed(keys_settings(raw), update).as_dict(),
        actor=actor,
        as_role=as_role,
        what="the keys settings",
    )
    return keys_settings(after)


async def sealed_keystore(store: InventoryStore, cluster: Cluster) -> tuple[bytes, Document]:
    """The sealed keystore's content and document; InvalidInput when there is none."""
    files = await clusterfiles.sealed(store, cluster)
    if files is None:
        raise InvalidInput(
            f"cluster {cluster.name!r} has no sealed {KEYSTORE.path}",
            hint="the install or `clustermgr files apply` seals the first node's keystore",
        )
    if KEYSTORE.path not in files:
        raise InvalidInput(
            f"cluster {cluster.name!r} has no sealed {KEYSTORE.path}",
            hint="its identity nodes hold no JSON keystore: only that keystore is rotated "
            "here (oxAuth's Java keystore is not)",
        )
    content = files[KEYSTORE.path].content
    return content, keystore.parse(content)


async def seal_keystore(store: InventoryStore, cluster: Cluster, content: bytes) -> None:
    """Seal ``content`` as the keystore, the other cluster files as they are."""
    files = await clusterfiles.sealed(store, cluster) or {}
    kept = {p: f.content for p, f in files.items()}
    await clusterfiles.seal(store, cluster, kept | {KEYSTORE.path: content})


async def sealed_clusters(manager: Manager) -> list[str]:
    """The clusters whose cluster files (the keystore among them) are sealed: one query."""
    async with manager.store() as store:
        return await store.clusters_with_secret(CLUSTER_FILES_SECRET)
