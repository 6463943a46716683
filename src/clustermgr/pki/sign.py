"""Sign a node's CSR, and decide whether a node's certificate can be kept.

A CSR is the only thing a node sends: its key never leaves it.  The manager
signs only for the host it asked: a CSR naming another host (subject CN or a
SAN) is refused, so a node cannot obtain a certificate for its peer.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clustermgr.pki.ca import Ca

CERT_DAYS = 825
#: A kept certificate must stay valid at least this long, or it is signed anew.
RENEW_BEFORE = datetime.timedelta(days=30)


class CsrRefused(ValueError):
    """The CSR is not one the manager signs for this host."""


def _names(subject: x509.Name, extensions: x509.Extensions) -> set[str]:
    names = {str(a.value).lower() for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return names
    names |= {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return names


def sign_csr(ca: Ca, csr_pem: bytes | str, *, hostname: str) -> str:
    """A certificate for ``hostname`` (SAN DNS, serverAuth+clientAuth, 825 days), PEM."""
    data = csr_pem.encode() if isinstance(csr_pem, str) else csr_pem
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as exc:
        raise CsrRefused(f"not a certificate signing request: {exc}") from exc
    if not csr.is_signature_valid:
        raise CsrRefused("the CSR's signature does not verify")
    other = _names(csr.subject, csr.extensions) - {hostname.lower()}
    if other:
        raise CsrRefused(f"the CSR for {hostname} names other hosts: {', '.join(sorted(other))}")
    key = ca.private_key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def still_good(ca: Ca, cert_pem: bytes | None, csr_pem: bytes, *, hostname: str) -> bool:
    """True when the node's certificate can stay: so a re-apply changes nothing.

    It must be signed by this CA, carry the CSR's key, name ``hostname`` and
    remain valid for a while.
    """
    if not cert_pem:
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        csr = x509.load_pem_x509_csr(csr_pem)
        cert.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    if _public(cert.public_key()) != _public(csr.public_key()):
        return False
    if _names(cert.subject, cert.extensions) != {hostname.lower()}:
        return False
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return remaining > RENEW_BEFORE


def _public(key: object) -> bytes:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
