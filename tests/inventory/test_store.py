"""The inventory store and the vault, on SQLite and PostgreSQL (no SSH here)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.errors import AlreadyExists, NotFound, SecretKeyError
from clustermgr.inventory.models import Credential
from clustermgr.inventory.schemas import ClusterSettings, ServerSpec
from clustermgr.inventory.store import cluster_view
from clustermgr.inventory.vault import Vault
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey
from clustermgr.topology import Role

PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nRecognisableKeyMaterial0123456789\n-----END"
HOST_KEY = HostKey("ssh-ed25519", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample", "SHA256:abc")


def spec(hostname: str, address: str = "10.0.0.1", port: int = 22) -> ServerSpec:
    return ServerSpec.parse(
        cluster="c1", hostname=hostname, address=address, role="identity", ssh_port=port
    )


async def add(manager: Manager, server: ServerSpec, key: str = PRIVATE_KEY) -> None:
    async with manager.store() as store:
        cred = await store.put_ssh_key(
            private_key=Secret(key), passphrase=Secret("pp-inventory"), fingerprint="SHA256:client"
        )
        await store.add_server(server, cred, [HOST_KEY])


async def test_server_round_trip(manager: Manager) -> None:
    await add(manager, spec("idp1.example.org"))
    async with manager.store() as store:
        view = cluster_view(await store.cluster("c1"))
        server = await store.server("c1", "idp1.example.org")
        creds = store.credentials_for(server)
    (only,) = view.servers
    assert (only.hostname, only.address, only.role, only.ssh_port) == (
        "idp1.example.org",
        "10.0.0.1",
        Role.IDENTITY,
        22,
    )
    assert only.host_keys == (HOST_KEY,)
    assert creds.private_key is not None and creds.private_key.reveal() == PRIVATE_KEY
    assert creds.passphrase is not None and creds.passphrase.reveal() == "pp-inventory"


async def test_duplicate_hostname_and_endpoint_are_refused(manager: Manager) -> None:
    await add(manager, spec("idp1.example.org"))
    with pytest.raises(AlreadyExists, match=r"'idp1\.example\.org' is already in cluster 'c1'"):
        await add(manager, spec("idp1.example.org", address="10.0.0.2"))
    with pytest.raises(AlreadyExists, match=r"10\.0\.0\.1:22 is already server 'idp1"):
        await add(manager, spec("idp2.example.org"))
    await add(manager, spec("idp2.example.org", port=2222))  # same address, other port: fine
    async with manager.store() as store:
        assert len((await store.cluster("c1")).servers) == 2


async def test_remove_server_drops_its_pins(manager: Manager) -> None:
    await add(manager, spec("idp1.example.org"))
    async with manager.store() as store:
        await store.remove_server("c1", "idp1.example.org")
    async with manager.store() as store:
        with pytest.raises(NotFound, match=r"no server 'idp1\.example\.org'"):
            await store.server("c1", "idp1.example.org")


async def test_same_key_is_stored_once(manager: Manager) -> None:
    await add(manager, spec("idp1.example.org"))
    await add(manager, spec("idp2.example.org", address="10.0.0.2"))
    async with manager.store() as store:
        assert len(list(await store.session.scalars(select(Credential)))) == 1


async def test_credentials_are_encrypted_at_rest(manager: Manager, tmp_path: Path) -> None:
    await add(manager, spec("idp1.example.org"))
    async with manager.store() as store:
        (cred,) = await store.session.scalars(select(Credential))
    assert b"RecognisableKeyMaterial" not in cred.ciphertext
    assert b"pp-inventory" not in cred.ciphertext
    key_file = manager.settings.effective_secret_key_file
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    files = list(tmp_path.glob("inventory.db*"))  # the SQLite variant: the file and its WAL
    raw = b"".join(f.read_bytes() for f in files)
    if files:
        assert raw, "the database files hold the data"
        assert b"RecognisableKeyMaterial" not in raw and b"pp-inventory" not in raw


async def test_missing_or_wrong_key_file_is_a_clear_error(manager: Manager, tmp_path: Path) -> None:
    await add(manager, spec("idp1.example.org"))
    key_file = manager.settings.effective_secret_key_file
    original = key_file.read_bytes()
    key_file.unlink()
    manager.vault = Vault(key_file)  # a fresh process would start like this
    async with manager.store() as store:
        server = await store.server("c1", "idp1.example.org")
        with pytest.raises(SecretKeyError, match="is missing: stored credentials cannot be"):
            store.credentials_for(server)
    other = Vault(tmp_path / "other.key")
    other.seal({"x": Secret("y")}, first=True)
    manager.vault = other
    async with manager.store() as store:
        server = await store.server("c1", "idp1.example.org")
        with pytest.raises(SecretKeyError, match="cannot be decrypted"):
            store.credentials_for(server)
    assert not key_file.exists(), "a missing key is never silently replaced"
    key_file.write_bytes(original)


async def test_a_key_file_others_can_read_is_refused(manager: Manager) -> None:
    await add(manager, spec("idp1.example.org"))
    key_file = manager.settings.effective_secret_key_file
    key_file.chmod(0o644)
    manager.vault = Vault(key_file)  # a fresh process would start like this
    try:
        async with manager.store() as store:
            server = await store.server("c1", "idp1.example.org")
            with pytest.raises(SecretKeyError) as caught:
                store.credentials_for(server)
    finally:
        key_file.chmod(0o600)
    error = caught.value
    assert error.message == (
        f"secret key file {key_file} is open to group or others (mode 0644): refusing to use it"
    )
    assert error.hint is not None and f"chmod 600 {key_file}" in error.hint
    assert oct(key_file.stat().st_mode & 0o777) == "0o600", "nothing was changed but by the test"


async def test_clusters_holding_a_secret_in_one_query(manager: Manager) -> None:
    async with manager.store() as store:
        for name in ("b", "a", "c"):
            await store.create_cluster(name, ClusterSettings())
        for name in ("b", "a"):
            cluster = await store.cluster(name)
            await store.cluster_secret(cluster, "redis", lambda: Secret(secrets.token_hex(12)))
        await store.cluster_secret(
            await store.cluster("c"), "other", lambda: Secret(secrets.token_hex(12))
        )
    async with manager.store() as store:
        assert await store.clusters_with_secret("redis") == ["a", "b"]
        assert await store.clusters_with_secret("nothing") == []
