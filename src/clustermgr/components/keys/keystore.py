"""The identity app's JSON keystore, edited by the manager (pure).

The keystore is a cluster file (:data:`KEYSTORE`): a JWKS document whose keys carry
their private parts, and ``signing_kid``, the key that signs new tokens::

    {"signing_kid": "K1",
     "keys": [{"kty": "EC", "crv": "P-256", "kid": "K1", "alg": "ES256",
               "use": "sig", "x": "...", "y": "...", "d": "..."}]}

A node accepts a token signed by any key of its keystore.  The manager makes new
keys itself (:func:`new_key`, P-256 for ES256) and edits the document; the error
messages here name kids, never key material.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from clustermgr.errors import InvalidInput
from clustermgr.topology import ClusterFile, cluster_file

#: The keystore as a cluster file: where it is, its mode and owner.
KEYSTORE: ClusterFile = cluster_file("/etc/certs/oxauth-keys.json")
ALG = "ES256"
CURVE = "P-256"
_COORDINATE = 32  # bytes of a P-256 coordinate or private scalar

Document = dict[str, Any]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_key() -> dict[str, str]:
    """A new private JWK (ES256 on P-256); its ``kid`` is its RFC 7638 thumbprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    public = {
        "crv": CURVE,
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(_COORDINATE, "big")),
        "y": _b64url(numbers.y.to_bytes(_COORDINATE, "big")),
    }
    canonical = json.dumps(public, separators=(",", ":"), sort_keys=True).encode()
    kid = _b64url(hashlib.sha256(canonical).digest())
    d = key.private_numbers().private_value.to_bytes(_COORDINATE, "big")
    return {**public, "kid": kid, "use": "sig", "alg": ALG, "d": _b64url(d)}


def parse(content: bytes) -> Document:
    """The keystore document in ``content``; InvalidInput when it is not one."""
    try:
        document = json.loads(content)
    except ValueError:
        raise InvalidInput(f"the sealed {KEYSTORE.path} is not JSON") from None
    checked(document)
    return dict(document)


def checked(document: Any) -> Document:
    """``document`` when it is a keystore: a ``keys`` list of objects with distinct
    kids, and ``signing_kid`` naming one of them; InvalidInput otherwise."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidInput(f"{KEYSTORE.path} is not a keystore: no 'keys' list")
    seen: set[str] = set()
    for jwk in document["keys"]:
        kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
        if not isinstance(kid, str) or not kid:
            raise InvalidInput(f"{KEYSTORE.path}: a key has no 'kid'")
        if kid in seen:
            raise InvalidInput(f"{KEYSTORE.path}: two keys have kid {kid!r}")
        seen.add(kid)
    if document.get("signing_kid") not in seen:
        raise InvalidInput(f"{KEYSTORE.path}: 'signing_kid' names none of its keys")
    return dict(document)


def kids(document: Mapping[str, Any]) -> list[str]:
    """The kids of the keystore's keys, in its order."""
    return [str(k["kid"]) for k in document["keys"]]


def signing_kid(document: Mapping[str, Any]) -> str:
    return str(document["signing_kid"])


def with_key(document: Mapping[str, Any], jwk: Mapping[str, Any]) -> Document:
    """``document`` with ``jwk`` added last (the signing key unchanged); the same
    document when a key of that kid is already in it."""
    if jwk["kid"] in kids(document):
        return dict(document)
    return checked({**document, "keys": [*document["keys"], dict(jwk)]})


def with_signing_key(document: Mapping[str, Any], kid: str) -> Document:
    """``document`` with ``kid``, one of its keys, signing."""
    if kid not in kids(document):
        raise InvalidInput(f"{KEYSTORE.path}: no key {kid!r} to sign with")
    return checked({**document, "signing_kid": kid})


def without_keys(document: Mapping[str, Any], gone: Iterable[str]) -> Document:
    """``document`` without the keys ``gone`` (those it lacks are ignored); the
    signing key is never removed."""
    drop = set(gone)
    if signing_kid(document) in drop:
        raise InvalidInput(f"{KEYSTORE.path}: the signing key cannot be removed")
    return checked({**document, "keys": [k for k in document["keys"] if k["kid"] not in drop]})


def text(document: Mapping[str, Any]) -> bytes:
    """The file's content for ``document`` (the form the identity app writes too)."""
    return (json.dumps(checked(document), indent=2, sort_keys=True) + "\n").encode()
