"""What a certificate change shows: each certificate's summary, old and new (pure).

PEM certificates diff as their subject, issuer, names, validity, serial and
fingerprint, one line each, rather than as base64.  A file holding a private
key is never shown.
"""

from __future__ import annotations

import re
from datetime import UTC

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from clustermgr.plan.diffs import hidden, unified

_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL)
_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def holds_private_key(data: bytes | None) -> bool:
    return data is not None and _PRIVATE_KEY.search(data) is not None


def holds_certificate(data: bytes | None) -> bool:
    return data is not None and _CERT.search(data) is not None


def certificate_diff(path: str, old: bytes | None, new: bytes) -> str:
    """The summaries of ``old``'s and ``new``'s certificates, as a unified diff."""
    if holds_private_key(old) or holds_private_key(new):
        return hidden(path, "holds a private key")
    return unified(path, None if old is None else summary(old), summary(new))


def summary(data: bytes) -> list[str]:
    """One line per fact of each PEM certificate in ``data`` (a chain gives several)."""
    blocks = _CERT.findall(data)
    if not blocks:
        return ["(no certificate)\n"] if not data.strip() else ["(not a PEM certificate)\n"]
    lines: list[str] = []
    for number, block in enumerate(blocks, start=1):
        prefix = f"certificate {number}: " if len(blocks) > 1 else ""
        try:
            cert = x509.load_pem_x509_certificate(block)
        except ValueError:
            lines.append(f"{prefix}(unreadable certificate)\n")
            continue
        lines.extend(f"{prefix}{line}\n" for line in _facts(cert))
    return lines


def _facts(cert: x509.Certificate) -> list[str]:
    not_before = cert.not_valid_before_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    not_after = cert.not_valid_after_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return [
        f"subject: {cert.subject.rfc4514_string()}",
        f"issuer: {cert.issuer.rfc4514_string()}",
        f"names: {', '.join(_names(cert)) or '(none)'}",
        f"valid from: {not_before}",
        f"valid until: {not_after}",
        f"serial: {cert.serial_number:x}",
        f"sha256: {cert.fingerprint(hashes.SHA256()).hex(':')}",
    ]


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
    names += [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
    return names
