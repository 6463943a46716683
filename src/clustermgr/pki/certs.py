"""Certificates the cluster CA issues to servers that made their own key and CSR."""

from __future__ import annotations

from clustermgr.errors import RemoteFileNotFound
from clustermgr.pki.ca import Ca
from clustermgr.pki.sign import sign_csr, still_good
from clustermgr.remote.connection import Connection


async def issued_certificate(
    conn: Connection, ca: Ca, *, csr_file: str, cert_file: str, hostname: str
) -> bytes:
    """The server's certificate: the one it has if still good, else its CSR signed now.

    Only the CSR and the (public) certificate are read from the server, never its
    key.  A server without a CSR yet (dry run) gets an empty placeholder.
    """
    try:
        csr = await conn.get(csr_file)
    except RemoteFileNotFound:
        return b""
    try:
        current: bytes | None = await conn.get(cert_file)
    except RemoteFileNotFound:
        current = None
    if current is not None and still_good(ca, current, csr, hostname=hostname):
        return current
    return sign_csr(ca, csr, hostname=hostname).encode()
