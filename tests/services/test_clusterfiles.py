"""The cluster files' sealed copies: kept in the vault, secret ones redacted, replaced
through an audited service."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from clustermgr.audit.service import entries
from clustermgr.auth.roles import UserRole
from clustermgr.core.manager import Manager
from clustermgr.errors import Forbidden, InvalidInput
from clustermgr.inventory.models import ClusterSecret
from clustermgr.redact import MASK, redact
from clustermgr.services import clusterfiles, clusters
from clustermgr.topology import CLUSTER_FILES, CLUSTER_FILES_SECRET, Role, cluster_files_of

CLUSTER = "cf"
KEY = "/etc/certs/httpd.key"
CERT = "/etc/certs/httpd.crt"
KEYSTORE = "/etc/certs/oxauth-keys.json"
#: A private key's line: long enough to be redacted line by line.
KEY_LINE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7clusterfilestest"
CERT_LINE = "MIIDazCCAlOgAwIBAgIUclusterfilescertificatepublicline0123456789ab"
KEY_PEM = f"-----BEGIN PRIVATE KEY-----\n{KEY_LINE}\n-----END PRIVATE KEY-----\n".encode()
CERT_PEM = f"-----BEGIN CERTIFICATE-----\n{CERT_LINE}\n-----END CERTIFICATE-----\n".encode()


@pytest.fixture
async def cluster(manager: Manager) -> str:
    await clusters.create_cluster(manager, CLUSTER)
    return CLUSTER


def test_the_table_names_the_keystores_and_each_file_once() -> None:
    paths = [f.path for f in CLUSTER_FILES]
    assert len(paths) == len(set(paths))
    assert {KEY, CERT, KEYSTORE, "/etc/certs/oxauth-keys.jks"} <= set(paths)
    assert [f.path for f in cluster_files_of(Role.PROXY)] == []
    keystore = next(f for f in CLUSTER_FILES if f.path == KEYSTORE)
    assert keystore.secret and keystore.mode == 0o600 and not keystore.required
    assert keystore.on("/opt/gluu-server") == "/opt/gluu-server/etc/certs/oxauth-keys.json"
    assert keystore.on(None) == KEYSTORE


async def test_sealed_in_the_vault_the_secret_ones_redacted_the_public_ones_not(
    manager: Manager, cluster: str
) -> None:
    async with manager.store() as store:
        row = await store.cluster(cluster)
        assert await clusterfiles.sealed(store, row) is None
        await clusterfiles.seal(store, row, {KEY: KEY_PEM, CERT: CERT_PEM})
    async with manager.db.session() as session:
        raw = list(await session.scalars(select(ClusterSecret.ciphertext)))
    assert raw and all(KEY_LINE.encode() not in bytes(c) for c in raw), "sealed, not plain"
    async with manager.store() as store:
        kept = await clusterfiles.sealed(store, await store.cluster(cluster))
        assert await store.clusters_with_secret(CLUSTER_FILES_SECRET) == [CLUSTER]
    assert kept is not None and list(kept) == [KEY, CERT], "the table's order"
    assert kept[KEY].content == KEY_PEM and kept[CERT].content == CERT_PEM
    assert KEY_LINE not in repr(kept[KEY])
    assert redact(f"stderr: {KEY_LINE}") == f"stderr: {MASK}", "a secret file is held"
    assert redact(f"cert: {CERT_LINE}") == f"cert: {CERT_LINE}", "a public one is not"


async def test_a_json_keystore_is_masked_in_its_private_parts_only(
    manager: Manager, cluster: str
) -> None:
    private = "nHUvCu5e4LxbKz3rY9qW0mPp1sT7vA2dF6gH8jK0lZ"
    kid = "2026-12-07-keystore-key-id-of-the-signing-key"
    public_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    keystore = {
        "keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": public_x, "d": private}],
        "signing_kid": kid,
    }
    text = json.dumps(keystore, indent=2).encode()
    async with manager.store() as store:
        await clusterfiles.seal(store, await store.cluster(cluster), {KEYSTORE: text})
    async with manager.store() as store:
        kept = await clusterfiles.sealed(store, await store.cluster(cluster))  # opened
    assert kept is not None and kept[KEYSTORE].content == text
    shown = redact(text.decode())
    assert private not in shown and MASK in shown, "the private key is held"
    assert kid in shown and public_x in shown, "its id and public half are not"
    assert clusterfiles.secret_parts("not json at all") == ["not json at all"]
    no_private = json.dumps({"keys": [{"kid": kid}]})
    assert clusterfiles.secret_parts(no_private) == [no_private], "unknown: all of it"


async def test_only_cluster_files_are_sealed(manager: Manager, cluster: str) -> None:
    async with manager.store() as store:
        row = await store.cluster(cluster)
        with pytest.raises(InvalidInput, match="not a cluster file"):
            await clusterfiles.seal(store, row, {"/etc/passwd": b"root"})
        with pytest.raises(InvalidInput, match="larger than"):
            await clusterfiles.seal(store, row, {KEY: b"x" * (clusterfiles.MAX_SIZE + 1)})


async def test_replace_is_audited_with_the_digest_never_the_content(
    manager: Manager, cluster: str
) -> None:
    with pytest.raises(InvalidInput, match="no sealed files yet"):
        await clusterfiles.replace(manager, cluster, KEYSTORE, b"{}", actor="t")
    async with manager.store() as store:
        await clusterfiles.seal(store, await store.cluster(cluster), {KEY: KEY_PEM, CERT: CERT_PEM})
    new = b'{"keys": [{"kid": "rotated-signing-key-0001", "d": "secretpart"}]}'
    with pytest.raises(Forbidden):
        await clusterfiles.replace(
            manager, cluster, KEYSTORE, new, actor="op", as_role=UserRole.OPERATOR
        )
    with pytest.raises(InvalidInput, match="not a cluster file"):
        await clusterfiles.replace(manager, cluster, "/etc/shadow", new, actor="t")
    replaced = await clusterfiles.replace(manager, cluster, KEYSTORE, new, actor="rotator")
    assert replaced.sha256 == clusterfiles.digest(new)
    async with manager.store() as store:
        kept = await clusterfiles.sealed(store, await store.cluster(cluster))
    assert kept is not None and list(kept) == [KEY, CERT, KEYSTORE]
    assert kept[KEYSTORE].content == new and kept[KEY].content == KEY_PEM
    entry = next(e for e in await entries(manager) if e.actor == "rotator")
    assert entry.action == "files.replace" and entry.result == "ok"
    assert entry.detail == {"path": KEYSTORE, "sha256": clusterfiles.digest(new)}
    refused = [e for e in await entries(manager) if e.actor == "op"]
    assert refused and refused[0].result == "refused"
