"""The cluster CA: certificates it signs, CSRs it refuses, certificates it keeps."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clustermgr.pki.ca import Ca, new_ca
from clustermgr.pki.sign import CsrRefused, sign_csr, still_good


def csr(cn: str, *sans: str) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), key


@pytest.fixture(scope="module")
def ca() -> Ca:
    return new_ca("clustermgr CA test")


def test_ca_is_a_ten_year_p256_ca(ca: Ca) -> None:
    cert = ca.certificate
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert isinstance(ca.private_key().curve, ec.SECP256R1)
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 3649 <= days <= 3651
    assert "PRIVATE KEY" not in repr(ca) and "PRIVATE KEY" not in str(ca.key_pem)


def test_signed_certificate_names_the_host_and_verifies(ca: Ca) -> None:
    request, _ = csr("idp1.lab.test", "idp1.lab.test")
    cert = x509.load_pem_x509_certificate(sign_csr(ca, request, hostname="idp1.lab.test").encode())
    cert.verify_directly_issued_by(ca.certificate)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["idp1.lab.test"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 825
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize(
    ("cn", "sans"),
    [
        ("idp2.lab.test", ("idp1.lab.test",)),
        ("idp1.lab.test", ("idp1.lab.test", "idp2.lab.test")),
        ("idp1.lab.test", ("*.lab.test",)),
    ],
)
def test_csr_naming_another_host_is_refused(ca: Ca, cn: str, sans: tuple[str, ...]) -> None:
    request, _ = csr(cn, *sans)
    with pytest.raises(CsrRefused, match="other hosts"):
        sign_csr(ca, request, hostname="idp1.lab.test")


def test_garbage_is_refused(ca: Ca) -> None:
    with pytest.raises(CsrRefused):
        sign_csr(ca, b"not a csr", hostname="idp1.lab.test")


def test_a_good_certificate_is_kept_others_are_not(ca: Ca) -> None:
    request, _ = csr("idp1.lab.test")
    cert = sign_csr(ca, request, hostname="idp1.lab.test").encode()
    assert still_good(ca, cert, request, hostname="idp1.lab.test")
    assert not still_good(ca, None, request, hostname="idp1.lab.test")
    assert not still_good(ca, cert, request, hostname="idp2.lab.test")
    other_request, _ = csr("idp1.lab.test")  # a new key on the node
    assert not still_good(ca, cert, other_request, hostname="idp1.lab.test")
    stranger = new_ca("another CA")
    foreign = sign_csr(stranger, request, hostname="idp1.lab.test").encode()
    assert not still_good(ca, foreign, request, hostname="idp1.lab.test")
    assert not still_good(ca, b"garbage", request, hostname="idp1.lab.test")


def test_certificate_near_its_end_is_renewed(ca: Ca, monkeypatch: pytest.MonkeyPatch) -> None:
    request, _ = csr("idp1.lab.test")
    cert = sign_csr(ca, request, hostname="idp1.lab.test").encode()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=800)

    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> Clock:
            return cls.fromtimestamp(later.timestamp(), tz)

    monkeypatch.setattr("clustermgr.pki.sign.datetime.datetime", Clock)
    assert not still_good(ca, cert, request, hostname="idp1.lab.test")
