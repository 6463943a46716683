"""Each node's certificate from the cluster CA: kept while still good, else its CSR signed.

Only the CSR and the (public) certificate are read from a node, never its key.
"""

from __future__ import annotations

from collections.abc import Iterable

from clustermgr.core.access import HostAccess
from clustermgr.pki.ca import Ca
from clustermgr.pki.certs import issued_certificate
from clustermgr.pki.nodetls import NodeTls


async def certificate(
    access: HostAccess, ca: Ca, host: str, tls: NodeTls, *, name: str | None = None
) -> bytes:
    """``host``'s certificate for ``name`` (``host`` by default); b"" without a CSR yet."""
    return await issued_certificate(
        await access.connection(host),
        ca,
        csr_file=tls.csr_file,
        cert_file=tls.cert_file,
        hostname=name or host,
    )


async def certificates(
    access: HostAccess, ca: Ca, hosts: Iterable[str], tls: NodeTls
) -> dict[str, bytes]:
    """hostname -> its certificate (PEM); a node without a CSR yet (dry run) gets b""."""
    return {host: await certificate(access, ca, host, tls) for host in hosts}
