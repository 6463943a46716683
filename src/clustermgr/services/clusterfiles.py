"""The cluster files' sealed copies: read from the first node, kept in the inventory.

:data:`clustermgr.topology.CLUSTER_FILES` names the files every identity node must
hold the same (the web front's key and certificate, the identity app's keystore).
Their copies are one cluster secret (sealed with the vault), read once from the
first node: by the install after its setup, or by the first ``files apply`` of a
cluster installed outside clustermgr.  :func:`replace` puts new content in their
place (a rotated key); the next ``files apply`` writes it to every node.

A secret file's content, once opened, is a secret the manager holds: registered for
redaction.  A public one (the certificate) is not.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, RemoteFileNotFound
from clustermgr.inventory.models import Cluster
from clustermgr.inventory.store import InventoryStore
from clustermgr.redact import Secret
from clustermgr.remote.connection import Connection
from clustermgr.topology import CLUSTER_FILES, CLUSTER_FILES_SECRET, ClusterFile, cluster_file

#: The largest cluster file the manager keeps.
MAX_SIZE = 1024**2


@dataclass(frozen=True)
class SealedFile:
    """A cluster file's sealed copy; its content never shows in a repr."""

    spec: ClusterFile
    content: bytes = field(repr=False)

    @property
    def path(self) -> str:
        return self.spec.path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _spec(path: str) -> ClusterFile:
    try:
        return cluster_file(path)
    except KeyError:
        raise InvalidInput(
            f"{path!r} is not a cluster file",
            hint=f"one of: {', '.join(f.path for f in CLUSTER_FILES)}",
        ) from None


#: The members of a JSON Web Key that are private (RFC 7518 section 6): the only
#: parts of a JSON keystore that are secret.
PRIVATE_KEY_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def secret_parts(text: str) -> list[str]:
    """What of a secret file's text is secret: a JSON keystore's private key members
    (its key ids and public halves show in status and JWKS, so they are not masked),
    anything else whole."""
    try:
        document = json.loads(text)
    except ValueError:
        return [text]
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        return [text]
    parts = [
        json.dumps(key[member]) if not isinstance(key[member], str) else key[member]
        for key in keys
        if isinstance(key, dict)
        for member in PRIVATE_KEY_MEMBERS
        if member in key
    ]
    return parts or [text]


def _opened(cluster: str, spec: ClusterFile, content: bytes) -> SealedFile:
    if spec.secret:
        # A binary one (a Java keystore) is never part of text to redact.
        with contextlib.suppress(UnicodeDecodeError):
            for part in secret_parts(content.decode()):
                Secret.held(part, label=f"{cluster}.{spec.path}")
    return SealedFile(spec, content)


async def sealed(store: InventoryStore, cluster: Cluster) -> dict[str, SealedFile] | None:
    """The cluster's sealed files by path, in the table's order; None before any was read.
    A path the table no longer names is left out."""
    found = await store.find_cluster_secret(cluster, CLUSTER_FILES_SECRET)
    if found is None:
        return None
    raw: dict[str, str] = json.loads(found.reveal())
    return {
        spec.path: _opened(cluster.name, spec, base64.b64decode(raw[spec.path]))
        for spec in CLUSTER_FILES
        if spec.path in raw
    }


async def seal(store: InventoryStore, cluster: Cluster, files: Mapping[str, bytes]) -> None:
    """Keep ``files`` (path -> content) as the cluster's sealed files, replacing them all."""
    for path, content in files.items():
        _spec(path)
        if len(content) > MAX_SIZE:
            raise InvalidInput(f"{path} is larger than {MAX_SIZE // 1024} KiB")
    text = json.dumps({p: base64.b64encode(c).decode() for p, c in sorted(files.items())})
    await store.replace_cluster_secret(
        cluster, CLUSTER_FILES_SECRET, Secret(text, label=CLUSTER_FILES_SECRET)
    )


async def read_from(conn: Connection, host: str, gluu_root: str | None) -> dict[str, bytes]:
    """The cluster files of an identity node as it has them (the first node's, to seal):
    a required one it lacks is InvalidInput; one that is not required is left out."""
    made: dict[str, bytes] = {}
    for spec in CLUSTER_FILES:
        try:
            made[spec.path] = await conn.get(spec.on(gluu_root))
        except RemoteFileNotFound:
            if spec.required:
                raise InvalidInput(f"{host}: there is no {spec.on(gluu_root)} to share") from None
    return made


async def replace(
    manager: Manager,
    cluster_name: str,
    path: str,
    content: bytes,
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> SealedFile:
    """Seal ``content`` as the cluster file ``path`` (a rotated key, a renewed
    certificate); the next ``files apply`` writes it to every node.  One audit entry
    (the path and the new digest, never the content)."""
    detail = {"path": path, "sha256": digest(content)}
    async with audit.audited(
        manager, actor=actor, action="files.replace", target=cluster_name, detail=detail
    ):
        require(as_role, UserRole.ADMIN, "replacing a cluster file")
        spec = _spec(path)
        if not content:
            raise InvalidInput(f"the new content of {path} is empty")
        async with manager.store() as store:
            cluster = await store.cluster(cluster_name)
            kept = await sealed(store, cluster)
            if kept is None:
                raise InvalidInput(
                    f"cluster {cluster_name!r} has no sealed files yet",
                    hint="they are read from the first node by the install or `files apply`",
                )
            files = {p: f.content for p, f in kept.items()} | {path: content}
            await seal(store, cluster, files)
    return _opened(cluster_name, spec, content)
