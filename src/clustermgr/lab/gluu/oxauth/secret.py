"""How the lab encodes Gluu's stored secrets.

Real Gluu encrypts ``bindPassword`` in ox-ldap.properties and Redis's ``password``
in oxCacheConfiguration with the node's salt (``/etc/gluu/conf/salt``); the lab's
convention is plain base64 of the UTF-8 text: it keeps secrets out of casual view,
it does not protect them.
"""

from __future__ import annotations

import base64
import binascii

#: The encoding's name, for the manager to show and check against.
SECRET_ENCODING = "base64"  # noqa: S105 (a name, not a password)


def encode_secret(plain: str) -> str:
    """Encode a secret the way the lab's ox-ldap.properties stores it (see SECRET_ENCODING)."""
    return base64.b64encode(plain.encode()).decode("ascii")


def decode_secret(encoded: str) -> str:
    """Inverse of :func:`encode_secret`; ValueError if ``encoded`` is not base64."""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a base64-encoded secret") from exc
