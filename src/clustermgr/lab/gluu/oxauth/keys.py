"""The node's signing keys: the keystore file, its public JWKS, and re-reading it.

oxAuth signs its tokens with keys from a Java keystore under ``/etc/certs``
(``oxauth-keys.jks``) and publishes their public halves at ``jwks_uri``.  The
stand-in keeps the same facts in a JSON stand-in for that keystore,
:data:`~.paths.OXAUTH_KEYSTORE` (mode 0600): a JWKS document whose keys carry
their private parts, and the ``kid`` of the key that signs::

    {"signing_kid": "K1",
     "keys": [{"kty": "EC", "crv": "P-256", "kid": "K1", "alg": "ES256",
               "use": "sig", "x": "...", "y": "...", "d": "..."}]}

A rotation is three rewrites of that file and nothing else: add a key
(:func:`with_key`), make it the signing key (:func:`with_signing_key`), remove the
old one (:func:`without_key`).  :class:`KeystoreFile` reads the file again whenever
it changes, so the running app follows without a restart.

The elliptic-curve maths is python3-cryptography's (Debian's package, which the
lab's ``gluu-server`` package depends on).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .logs import log

ALG = "ES256"
CURVE = "P-256"
#: The fields of a published key: never its private part.
PUBLIC_FIELDS = ("kty", "crv", "kid", "use", "alg", "x", "y")
_COORDINATE = 32  # bytes of a P-256 coordinate or private scalar


class KeystoreError(ValueError):
    """The keystore is missing or not a valid keystore; the message never holds a key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; ValueError for anything else."""
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def _integer(jwk: Mapping[str, Any], name: str) -> int:
    try:
        data = unb64url(jwk[name])
    except (KeyError, ValueError):
        raise KeystoreError(f"key {jwk.get('kid')!r}: {name!r} is missing or invalid") from None
    if len(data) != _COORDINATE:
        raise KeystoreError(f"key {jwk.get('kid')!r}: {name!r} is not {_COORDINATE} bytes")
    return int.from_bytes(data, "big")


def private_key(jwk: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key a JWK holds; KeystoreError unless ``x``/``y`` are its public half."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        raise KeystoreError(f"key {jwk.get('kid')!r}: only EC keys on {CURVE} are supported")
    scalar = _integer(jwk, "d")
    try:
        key = ec.derive_private_key(scalar, ec.SECP256R1())
    except ValueError:
        raise KeystoreError(f"key {jwk.get('kid')!r}: 'd' is not a {CURVE} key") from None
    numbers = key.public_key().public_numbers()
    if (numbers.x, numbers.y) != (_integer(jwk, "x"), _integer(jwk, "y")):
        raise KeystoreError(f"key {jwk.get('kid')!r}: 'x' and 'y' are not the key's public half")
    return key


def public_jwk(kid: str, key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": CURVE,
        "kid": kid,
        "use": "sig",
        "alg": ALG,
        "x": b64url(numbers.x.to_bytes(_COORDINATE, "big")),
        "y": b64url(numbers.y.to_bytes(_COORDINATE, "big")),
    }


def new_key() -> dict[str, str]:
    """A new private JWK; its ``kid`` is its RFC 7638 thumbprint, so unique to the key."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = public_jwk("", key.public_key())
    members = {name: public[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = b64url(hashlib.sha256(canonical).digest())
    d = key.private_numbers().private_value.to_bytes(_COORDINATE, "big")
    return {**public, "kid": kid, "d": b64url(d)}


@dataclass(frozen=True)
class Keystore:
    """Keys by ``kid`` and the one that signs."""

    keys: Mapping[str, ec.EllipticCurvePrivateKey]
    signing_kid: str

    @classmethod
    def from_document(cls, document: Any) -> Keystore:
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise KeystoreError("a keystore is an object with a 'keys' list")
        keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        for jwk in document["keys"]:
            kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
            if not isinstance(kid, str) or not kid:
                raise KeystoreError("every key needs a 'kid'")
            if kid in keys:
                raise KeystoreError(f"two keys have kid {kid!r}")
            keys[kid] = private_key(jwk)
        signing = document.get("signing_kid")
        if signing not in keys:
            raise KeystoreError(f"'signing_kid' {signing!r} names no key of the keystore")
        return cls(keys, signing)

    @property
    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        return self.keys[self.signing_kid]

    def public_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        key = self.keys.get(kid)
        return key.public_key() if key is not None else None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys, as ``jwks_uri`` publishes them."""
        return {"keys": [public_jwk(kid, key.public_key()) for kid, key in self.keys.items()]}


# --- a rotation: each step a new document --------------------------------------------


def new_keystore() -> dict[str, Any]:
    """A keystore document with one new key, which signs."""
    key = new_key()
    return {"signing_kid": key["kid"], "keys": [key]}


def with_key(document: Mapping[str, Any], jwk: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with ``jwk`` added (the signing key unchanged)."""
    changed = {**document, "keys": [*document["keys"], dict(jwk)]}
    Keystore.from_document(changed)
    return changed


def with_signing_key(document: Mapping[str, Any], kid: str) -> dict[str, Any]:
    """``document`` with ``kid``, one of its keys, as the signing key."""
    changed = {**document, "signing_kid": kid}
    Keystore.from_document(changed)
    return changed


def without_key(document: Mapping[str, Any], kid: str) -> dict[str, Any]:
    """``document`` without the key ``kid``; KeystoreError if that key signs."""
    changed = {**document, "keys": [k for k in document["keys"] if k.get("kid") != kid]}
    Keystore.from_document(changed)
    return changed


def keystore_text(document: Mapping[str, Any]) -> str:
    """The file's text for a valid ``document``."""
    Keystore.from_document(document)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read_keystore(path: str) -> Keystore:
    try:
        with open(path, encoding="utf-8") as keystore:
            text = keystore.read()
    except OSError as exc:
        raise KeystoreError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise KeystoreError(f"{path} is not JSON") from None
    try:
        return Keystore.from_document(document)
    except KeystoreError as exc:
        raise KeystoreError(f"{path}: {exc}") from None


class KeystoreFile:
    """The keystore at ``path``, read again whenever the file changes (checked per call).

    A file that cannot be read or is invalid leaves the last good keystore in use, so a
    rewrite in progress never drops the keys; with no good keystore yet, KeystoreError.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, ...] | None = None
        self._keystore: Keystore | None = None
        self._error = KeystoreError(f"{path} has not been read")

    def current(self) -> Keystore:
        with self._lock:
            try:
                st = os.stat(self.path)
                seen: tuple[int, ...] = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            except OSError:
                seen = ()
            if seen != self._seen:
                self._seen = seen
                try:
                    self._keystore = read_keystore(self.path)
                except KeystoreError as exc:
                    self._error = exc
                    log.error("Keystore not loaded (keeping the keys in use): %s", exc)
                else:
                    log.info(
                        "Keystore %s loaded: %d key(s), signing key %s",
                        self.path,
                        len(self._keystore.keys),
                        self._keystore.signing_kid,
                    )
            if self._keystore is None:
                raise self._error
            return self._keystore
