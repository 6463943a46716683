"""Make and load a cluster CA (EC P-256, ten years), pure and offline.

The CA's private key is a :class:`Secret`: it lives sealed in the inventory and
is revealed only to sign.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clustermgr.redact import Secret

CA_DAYS = 3650


@dataclass(frozen=True)
class Ca:
    """A cluster CA: its certificate (public) and its private key (secret)."""

    cert_pem: str
    key_pem: Secret

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem.encode())

    def private_key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key_pem.reveal().encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the cluster CA key is not an EC key")
        return key


def new_key_pem() -> Secret:
    """A fresh EC P-256 private key, PEM (PKCS#8, unencrypted: the vault seals it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Secret.held(pem.decode(), label="ca-key")


def self_signed(key_pem: Secret, common_name: str, *, days: int = CA_DAYS) -> str:
    """The CA certificate for ``key_pem``: basicConstraints CA, keyUsage certSign/crlSign."""
    key = Ca("", key_pem).private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def new_ca(common_name: str) -> Ca:
    key = new_key_pem()
    return Ca(self_signed(key, common_name), key)
