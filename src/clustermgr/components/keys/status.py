"""The signing keys now: the sealed keystore's keys, the rotation in progress, and
each node's keystore and published keys against the sealed ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clustermgr.components.keys import keystore, nodes
from clustermgr.components.keys.nodes import NodeKeys
from clustermgr.components.keys.rotation import TITLES, Rotation
from clustermgr.components.keys.settings import KeysSettings
from clustermgr.components.keys.store import KeysState, sealed_keystore, section, state_of
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.monitor.watching import check_settings


@dataclass(frozen=True)
class SealedKey:
    kid: str
    signs: bool
    #: When the manager made it (None: it did not).
    created: datetime | None


def next_due(state: KeysState, now: datetime) -> datetime | None:
    """When the schedule starts the next rotation (None: no schedule).  A rotation in
    progress, or a cluster never rotated by the manager, is due ``now``."""
    every = state.settings.rotate_every_days
    if every is None:
        return None
    if state.rotation is not None or state.last_rotated is None:
        return now
    return state.last_rotated + timedelta(days=every)


@dataclass(frozen=True)
class KeysStatus:
    cluster: str
    settings: KeysSettings
    #: None: no sealed keystore (or one that cannot be read: ``problem`` says why).
    keys: tuple[SealedKey, ...] | None
    sha256: str | None = None
    rotation: Rotation | None = None
    last_rotated: datetime | None = None
    nodes: tuple[NodeKeys, ...] = ()
    problem: str = ""

    def node_state(self, node: NodeKeys) -> str:
        if node.sha256 is None and node.kids is None:
            return "unknown"
        if node.sha256 != self.sha256:
            return "differs"
        sealed = {k.kid for k in self.keys or ()}
        return "same" if node.kids is not None and set(node.kids) == sealed else "not published"

    @property
    def ok(self) -> bool:
        return self.keys is not None and all(self.node_state(n) == "same" for n in self.nodes)

    def as_dict(self) -> dict[str, Any]:
        """Each key's kid is ``key_id`` here: a member named ``kid`` printed as indented
        JSON is a line of the keystore file, which output masks as the secret's."""
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "problem": self.problem,
            "settings": self.settings.as_dict(),
            "sha256": self.sha256,
            "keys": None
            if self.keys is None
            else [
                {
                    "key_id": k.kid,
                    "signs": k.signs,
                    "created": _iso(k.created),
                }
                for k in self.keys
            ],
            "rotation": None
            if self.rotation is None
            else {
                **self.rotation.as_dict(),
                "title": TITLES[self.rotation.phase],
                "removable_at": _iso(self.rotation.removable_at(self.settings.lifetime)),
            },
            "last_rotated": _iso(self.last_rotated),
            "nodes": [{**n.as_dict(), "state": self.node_state(n)} for n in self.nodes],
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


async def sealed(manager: Manager, cluster_name: str) -> KeysStatus:
    """What the inventory holds (no SSH)."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        state = state_of(section(cluster))
        try:
            content, document = await sealed_keystore(store, cluster)
        except InvalidInput as exc:
            return KeysStatus(cluster_name, state.settings, None, problem=exc.message)
    signing = keystore.signing_kid(document)
    keys = tuple(
        SealedKey(kid, kid == signing, state.created.get(kid)) for kid in keystore.kids(document)
    )
    sha = hashlib.sha256(content).hexdigest()
    return KeysStatus(cluster_name, state.settings, keys, sha, state.rotation, state.last_rotated)


async def status(manager: Manager, cluster_name: str) -> KeysStatus:
    """The sealed keys, and every node's keystore digest and published kids, read now."""
    found = await sealed(manager, cluster_name)
    if found.keys is None:
        return found
    async with manager.store() as store:
        hosts = nodes.identity_nodes(await store.cluster(cluster_name))
    if not hosts:
        return found
    settings = check_settings(manager.settings)
    async with await open_access(manager, cluster_name, hosts, settings=settings) as access:
        roots, silent = await nodes.roots(access, hosts)
        read = await nodes.read_nodes(access, roots, timeout=settings.watch_timeout)
    by_host = {n.host: n for n in read} | {h: NodeKeys(h, error=e) for h, e in silent.items()}
    return KeysStatus(
        found.cluster,
        found.settings,
        found.keys,
        found.sha256,
        found.rotation,
        found.last_rotated,
        tuple(by_host[h] for h in hosts),
    )
