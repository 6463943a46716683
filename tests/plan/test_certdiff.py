"""A certificate change shows what the certificates say; a private key shows nothing."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clustermgr.pki.ca import Ca, new_key_pem, self_signed
from clustermgr.pki.sign import sign_csr
from clustermgr.plan.certdiff import certificate_diff, summary
from clustermgr.plan.files import file_diff
from clustermgr.plan.model import FileChange


def node_key_and_csr(hostname: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def ca(name: str) -> Ca:
    key = new_key_pem()
    return Ca(self_signed(key, name), key)


def test_a_renewed_certificate_shows_old_and_new_summaries() -> None:
    old_ca, new_ca = ca("Old Cluster CA"), ca("New Cluster CA")
    _, csr = node_key_and_csr("idp1.lab.test")
    old = sign_csr(old_ca, csr, hostname="idp1.lab.test").encode()
    new = sign_csr(new_ca, csr, hostname="idp1.lab.test").encode()
    diff = certificate_diff("/etc/ssl/node.pem", old, new)
    assert "-issuer: CN=Old Cluster CA" in diff.splitlines()
    assert "+issuer: CN=New Cluster CA" in diff.splitlines()
    assert " subject: CN=idp1.lab.test" in diff.splitlines()
    assert " names: DNS:idp1.lab.test" in diff.splitlines()
    assert any(x[1:].startswith("valid from: 20") for x in diff.splitlines())
    assert any(x[1:].startswith("valid until: 20") for x in diff.splitlines())
    assert any(x.startswith("+sha256: ") for x in diff.splitlines())
    assert "BEGIN CERTIFICATE" not in diff and "MII" not in diff


def test_a_new_certificate_and_a_chain() -> None:
    root = ca("Root CA")
    _, csr = node_key_and_csr("cache1.lab.test")
    leaf = sign_csr(root, csr, hostname="cache1.lab.test").encode()
    chain = leaf + root.cert_pem.encode()
    lines = summary(chain)
    assert "certificate 1: subject: CN=cache1.lab.test" in [x.rstrip() for x in lines]
    assert "certificate 2: subject: CN=Root CA" in [x.rstrip() for x in lines]
    diff = file_diff(FileChange("/etc/stunnel/ca.pem", root.cert_pem.encode()), None).diff
    assert diff.startswith("--- /dev/null\n+++ /etc/stunnel/ca.pem\n")
    assert "+issuer: CN=Root CA" in diff.splitlines()
    assert summary(b"") == ["(no certificate)\n"]


def test_a_private_key_is_never_shown() -> None:
    key, _ = node_key_and_csr("idp1.lab.test")
    root = ca("Root CA")
    combined = root.cert_pem.encode() + key
    for change, current in (
        (FileChange("/k.key", key), None),
        (FileChange("/both.pem", combined), root.cert_pem.encode()),
        (FileChange("/c.pem", root.cert_pem.encode()), combined),
    ):
        diff = file_diff(change, current).diff
        assert diff == f"{change.path}: content changes (holds a private key, not shown)\n"
    secret_body = key.decode().splitlines()[1]
    assert secret_body not in certificate_diff("/x", key, root.cert_pem.encode())
