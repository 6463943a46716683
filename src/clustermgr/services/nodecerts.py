"""Each node's certificate from the cluster CA: kept while still good, else its CSR signed.

Only the CSR and the (public) certificate are read from a node, never its key.
"""

from __future__ import annotations

from collections.abc import Iterable

from clustermgr.components.nodetls import NodeTls
from clustermgr.errors import RemoteFileNotFound
from clustermgr.pki.ca import Ca
from clustermgr.pki.sign import sign_csr, still_good
from clustermgr.services.access import HostAccess


async def certificates(
    access: HostAccess, ca: Ca, hosts: Iterable[str], tls: NodeTls
) -> dict[str, bytes]:
    """hostname -> its certificate (PEM); a node without a CSR yet (dry run) gets b""."""
    certs: dict[str, bytes] = {}
    for host in hosts:
        conn = await access.connection(host)
        try:
            csr = await conn.get(tls.csr_file)
        except RemoteFileNotFound:
            certs[host] = b""
            continue
        try:
            current: bytes | None = await conn.get(tls.cert_file)
        except RemoteFileNotFound:
            current = None
        if current is not None and still_good(ca, current, csr, hostname=host):
            certs[host] = current
        else:
            certs[host] = sign_csr(ca, csr, hostname=host).encode()
    return certs
