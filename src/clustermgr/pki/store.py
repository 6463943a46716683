"""The cluster CA in the inventory: both halves sealed as cluster secrets.

Reusing ``cluster_secrets`` needs no migration; the certificate is public but
kept next to its key so the two can never come from different CAs.
"""

from __future__ import annotations

from clustermgr.core.manager import Manager
from clustermgr.inventory.store import InventoryStore
from clustermgr.pki.ca import Ca, new_key_pem, self_signed
from clustermgr.redact import Secret

CA_KEY_SECRET = "ca-key"  # noqa: S105 (a name, not a secret)
CA_CERT_SECRET = "ca-cert"  # noqa: S105 (a name, not a secret)


async def ca_in(store: InventoryStore, cluster_name: str) -> Ca:
    """The cluster's CA, made and sealed on first use."""
    cluster = await store.cluster(cluster_name)
    key = await store.cluster_secret(cluster, CA_KEY_SECRET, new_key_pem)
    cert = await store.cluster_secret(
        cluster,
        CA_CERT_SECRET,
        lambda: Secret(self_signed(key, f"clustermgr CA {cluster_name}"), label="ca-cert"),
    )
    return Ca(cert.reveal(), key)


async def ensure_ca(manager: Manager, cluster: str) -> Ca:
    async with manager.store() as store:
        return await ca_in(store, cluster)
