"""The cluster CA round-trips through the vault: made once, sealed, the same ever after."""

from __future__ import annotations

from sqlalchemy import select

from clustermgr.core.manager import Manager
from clustermgr.inventory.models import ClusterSecret
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.pki.store import ensure_ca


async def test_ca_is_made_once_and_sealed(manager: Manager) -> None:
    async with manager.store() as store:
        await store.create_cluster("c1", ClusterSettings())
    first = await ensure_ca(manager, "c1")
    again = await ensure_ca(manager, "c1")
    assert again.cert_pem == first.cert_pem
    assert again.key_pem.reveal() == first.key_pem.reveal()
    assert again.certificate.public_key() == first.private_key().public_key()
    async with manager.store() as store:
        rows = list(await store.session.scalars(select(ClusterSecret)))
    assert {r.name for r in rows} == {"ca-key", "ca-cert"}
    key_line = first.key_pem.reveal().splitlines()[1]
    assert all(key_line.encode() not in r.ciphertext for r in rows)
