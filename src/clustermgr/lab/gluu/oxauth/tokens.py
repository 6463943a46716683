"""Signed tokens: ES256 JWTs issued with the keystore's signing key, checked by ``kid``.

A token verifies on any node whose keystore holds the key named in its header, and
only there: a key removed from a node's keystore makes that node refuse every token
it signed.  Checked: the header's ``alg`` (ES256 only, never ``none``), the
signature, ``exp`` and ``iss``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .keys import ALG, Keystore, b64url, unb64url

#: oxAuth's default ``idTokenLifetime`` and ``accessTokenLifetime``, in seconds.
DEFAULT_LIFETIME = 3600
_HALF = 32  # bytes of r and of s in a JWS ES256 signature


class InvalidToken(Exception):
    """The token is refused; the message says why (never the token)."""


def issue(
    keystore: Keystore,
    *,
    issuer: str,
    subject: str,
    lifetime: int,
    claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """A JWT for ``subject`` signed with the keystore's signing key."""
    issued = int(time.time() if now is None else now)
    header = {"alg": ALG, "typ": "JWT", "kid": keystore.signing_kid}
    payload = {
        **(claims or {}),
        "iss": issuer,
        "sub": subject,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    signing_input = f"{_part(header)}.{_part(payload)}".encode("ascii")
    der = keystore.signing_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_HALF, "big") + s.to_bytes(_HALF, "big")
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def validate(
    keystore: Keystore, token: str, *, issuer: str, now: float | None = None
) -> dict[str, Any]:
    """The claims of ``token`` if this keystore's key signed it, unexpired, by ``issuer``."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a signed JWT")
    header, payload = _object(parts[0], "header"), _object(parts[1], "payload")
    if header.get("alg") != ALG:
        raise InvalidToken(f"algorithm {json.dumps(header.get('alg'))} is not {ALG}")
    kid = header.get("kid")
    key = keystore.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"key {json.dumps(kid)} is not in this node's keystore")
    try:
        signature = unb64url(parts[2])
    except ValueError:
        raise InvalidToken("the signature is not base64url") from None
    if len(signature) != 2 * _HALF:
        raise InvalidToken("the signature is not an ES256 signature")
    der = encode_dss_signature(
        int.from_bytes(signature[:_HALF], "big"), int.from_bytes(signature[_HALF:], "big")
    )
    try:
        key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise InvalidToken(f"the signature does not verify with key {json.dumps(kid)}") from None
    expires = payload.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise InvalidToken("no expiry")
    if expires <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    if payload.get("iss") != issuer:
        raise InvalidToken(f"issuer {json.dumps(payload.get('iss'))} is not {issuer}")
    return payload


def _part(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def _object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(unb64url(part))
    except ValueError:
        raise InvalidToken(f"the {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the {what} is not a JSON object")
    return value
