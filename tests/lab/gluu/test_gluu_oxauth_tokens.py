"""The stand-in's keystore, its JWKS and its signed tokens, without LDAP or sockets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from clustermgr.lab.gluu import directory, oxauth
from clustermgr.lab.gluu.oxauth.keys import b64url, unb64url
from gluu_lab import free_port

ISSUER = "https://login.example.org"


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def sign(document: dict[str, Any], **claims: Any) -> str:
    keystore = oxauth.Keystore.from_document(document)
    return oxauth.issue(keystore, issuer=ISSUER, subject="admin", lifetime=60, claims=claims)


def valid(document: dict[str, Any], token: str, issuer: str = ISSUER) -> bool:
    try:
        oxauth.validate(oxauth.Keystore.from_document(document), token, issuer=issuer)
    except oxauth.InvalidToken:
        return False
    return True


def write(path: Path, document: dict[str, Any]) -> None:
    """Rewrite ``path`` as a rotation would: a new file put in place."""
    path.with_suffix(".new").write_text(oxauth.keystore_text(document))
    os.replace(path.with_suffix(".new"), path)


# --- the keystore and its JWKS -------------------------------------------------------


def test_the_keystore_has_one_path_under_etc_certs() -> None:
    assert oxauth.OXAUTH_KEYSTORE == directory.OXAUTH_KEYSTORE == "/etc/certs/oxauth-keys.json"


def test_a_new_keystore_signs_with_its_one_key_named_by_its_thumbprint() -> None:
    one, two = oxauth.new_keystore(), oxauth.new_keystore()
    (key,) = one["keys"]
    assert one["signing_kid"] == key["kid"] != two["signing_kid"]
    assert {"kty", "crv", "x", "y", "d", "kid", "alg", "use"} <= key.keys()
    members = json.dumps({k: key[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=members.encode(), capture_output=True
    ).stdout
    assert key["kid"] == b64url(digest)  # RFC 7638: the same key gets the same kid anywhere


def test_the_jwks_holds_the_public_keys_only() -> None:
    document = oxauth.with_key(oxauth.new_keystore(), oxauth.new_key())
    jwks = oxauth.Keystore.from_document(document).jwks()
    assert [k["kid"] for k in jwks["keys"]] == [k["kid"] for k in document["keys"]]
    for public, private in zip(jwks["keys"], document["keys"], strict=True):
        assert set(public) == {"kty", "crv", "kid", "use", "alg", "x", "y"}
        assert {k: private[k] for k in public} == public
        assert private["d"] not in json.dumps(jwks)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: {**d, "signing_kid": "other"}, "'signing_kid' 'other' names no key"),
        (lambda d: {**d, "keys": d["keys"] * 2}, "two keys have kid"),
        (lambda d: {**d, "keys": [{**d["keys"][0], "kid": ""}]}, "every key needs a 'kid'"),
        (lambda d: {**d, "keys": [{**d["keys"][0], "kty": "RSA"}]}, "only EC keys on P-256"),
        (lambda d: {**d, "keys": [{**d["keys"][0], "d": "!"}]}, "'d' is missing or invalid"),
        (lambda d: {"signing_kid": d["signing_kid"]}, "an object with a 'keys' list"),
    ],
)
def test_an_invalid_keystore_is_refused_without_showing_a_key(change: Any, message: str) -> None:
    document = oxauth.new_keystore()
    with pytest.raises(oxauth.KeystoreError, match=message) as raised:
        oxauth.Keystore.from_document(change(document))
    assert document["keys"][0]["d"] not in str(raised.value)


def test_a_key_whose_public_half_is_anothers_is_refused() -> None:
    key, other = oxauth.new_key(), oxauth.new_key()
    mixed = {**key, "x": other["x"], "y": other["y"]}
    with pytest.raises(oxauth.KeystoreError, match="not the key's public half"):
        oxauth.Keystore.from_document({"signing_kid": key["kid"], "keys": [mixed]})


# --- tokens --------------------------------------------------------------------------


def test_a_token_is_an_es256_jwt_with_the_signing_kid_and_its_claims() -> None:
    document = oxauth.new_keystore()
    before = int(time.time())
    header, claims = claims_of(sign(document, sid="s1"))
    assert header == {"alg": "ES256", "typ": "JWT", "kid": document["signing_kid"]}
    assert claims["iss"] == ISSUER and claims["sub"] == "admin" and claims["sid"] == "s1"
    assert before <= claims["iat"] <= time.time() and claims["exp"] == claims["iat"] + 60
    assert claims_of(sign(document))[1]["jti"] != claims["jti"]


def test_the_signature_verifies_with_openssl_and_the_published_key(tmp_path: Path) -> None:
    """Another implementation agrees: the JWS signature is r||s over ``header.payload``."""
    document = oxauth.new_keystore()
    token = sign(document)
    (jwk,) = oxauth.Keystore.from_document(document).jwks()["keys"]
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64url(jwk["x"]), "big"),
        int.from_bytes(unb64url(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    pem = numbers.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input, _, signature = token.rpartition(".")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    (tmp_path / "key.pem").write_bytes(pem)
    (tmp_path / "sig").write_bytes(der)
    verify = ["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "key.pem")]
    checked = subprocess.run(
        [*verify, "-signature", str(tmp_path / "sig")],
        input=signing_input.encode(),
        capture_output=True,
    )
    assert checked.returncode == 0, checked.stderr
    tampered = subprocess.run(
        [*verify, "-signature", str(tmp_path / "sig")],
        input=signing_input.encode() + b"x",
        capture_output=True,
    )
    assert tampered.returncode != 0


def test_a_token_validates_wherever_the_keystore_holds_its_key() -> None:
    document = oxauth.new_keystore()
    token = sign(document)
    copied = json.loads(oxauth.keystore_text(document))  # another node, the same file
    assert valid(copied, token)
    assert not valid(oxauth.new_keystore(), token)  # a node whose keystore lacks the kid


def test_forged_expired_and_foreign_tokens_are_refused() -> None:
    document = oxauth.new_keystore()
    keystore = oxauth.Keystore.from_document(document)
    token = sign(document)
    header, payload, signature = token.split(".")
    claims = {**claims_of(token)[1], "sub": "root"}
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    unsigned = f"{b64url(json.dumps({'alg': 'none', 'kid': document['signing_kid']}).encode())}"
    expired = oxauth.issue(
        keystore, issuer=ISSUER, subject="admin", lifetime=60, now=time.time() - 61
    )
    cases = {
        "the signature does not verify": forged,
        'algorithm "none" is not ES256': f"{unsigned}.{payload}.",
        "expired": expired,
        "is not https://other": token,
        "not a signed JWT": "abc",
        "the header is not base64url JSON": f"%%.{payload}.{signature}",
        "the signature is not an ES256 signature": f"{header}.{payload}.{b64url(b'short')}",
    }
    for reason, bad in cases.items():
        issuer = "https://other" if reason.startswith("is not") else ISSUER
        with pytest.raises(oxauth.InvalidToken, match=reason):
            oxauth.validate(keystore, bad, issuer=issuer)


def test_a_rotation_keeps_old_tokens_valid_until_their_key_is_removed() -> None:
    first = oxauth.new_keystore()
    old_kid = first["signing_kid"]
    old_token = sign(first)
    added = oxauth.with_key(first, oxauth.new_key())
    new_kid = added["keys"][1]["kid"]
    assert added["signing_kid"] == old_kid and valid(added, old_token)
    switched = oxauth.with_signing_key(added, new_kid)
    new_token = sign(switched)
    assert claims_of(new_token)[0]["kid"] == new_kid
    assert valid(switched, old_token) and valid(switched, new_token)
    assert valid(added, new_token)  # a node not switched yet accepts the new key's tokens
    with pytest.raises(oxauth.KeystoreError, match="names no key"):
        oxauth.without_key(switched, new_kid)  # the signing key cannot go
    removed = oxauth.without_key(switched, old_kid)
    assert [k["kid"] for k in removed["keys"]] == [new_kid]
    assert not valid(removed, old_token) and valid(removed, new_token)


# --- the file, read again when it changes ------------------------------------------------


def test_the_keystore_file_is_read_again_when_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "oxauth-keys.json"
    first = oxauth.new_keystore()
    write(path, first)
    keys = oxauth.KeystoreFile(str(path))
    assert keys.current().signing_kid == first["signing_kid"]
    assert keys.current() is keys.current()  # unchanged: not parsed again
    second = oxauth.with_signing_key(oxauth.with_key(first, new := oxauth.new_key()), new["kid"])
    write(path, second)
    assert keys.current().signing_kid == new["kid"]


def test_an_invalid_rewrite_keeps_the_keys_in_use(tmp_path: Path) -> None:
    path = tmp_path / "oxauth-keys.json"
    document = oxauth.new_keystore()
    write(path, document)
    keys = oxauth.KeystoreFile(str(path))
    loaded = keys.current()
    path.write_text('{"keys": [')  # half a file
    assert keys.current() is loaded
    path.unlink()
    assert keys.current() is loaded
    write(path, other := oxauth.new_keystore())
    assert keys.current().signing_kid == other["signing_kid"]


def test_without_a_keystore_there_are_no_keys_until_one_is_written(tmp_path: Path) -> None:
    path = tmp_path / "oxauth-keys.json"
    keys = oxauth.KeystoreFile(str(path))
    with pytest.raises(oxauth.KeystoreError, match="cannot read"):
        keys.current()
    path.write_text("[]")
    with pytest.raises(oxauth.KeystoreError, match="an object with a 'keys' list"):
        keys.current()
    write(path, document := oxauth.new_keystore())
    assert keys.current().signing_kid == document["signing_kid"]


# --- the endpoints -----------------------------------------------------------------------


@pytest.fixture
def keystore_path(tmp_path: Path) -> Path:
    path = tmp_path / "oxauth-keys.json"
    write(path, oxauth.new_keystore())
    return path


@pytest.fixture
def app(keystore_path: Path) -> oxauth.OxAuth:
    """The app with a keystore, pointed at a port where no LDAP listens."""
    settings = oxauth.LdapSettings((f"ldap://127.0.0.1:{free_port()}",), "cn=x,o=gluu", "pw")
    ldap = oxauth.Ldap(settings, timeout=5.0)
    return oxauth.OxAuth(
        ldap=ldap,
        cache=oxauth.CacheService(ldap, "o=gluu"),
        suffix="o=gluu",
        issuer_host="login.example.org",
        node="n1",
        keys=oxauth.KeystoreFile(str(keystore_path)),
    )


def call(
    app: oxauth.OxAuth, method: str, path: str, body: bytes = b"", form: bool = False
) -> oxauth.Response:
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    return app.handle(oxauth.Request(method, path, kind, body, "127.0.0.1"))


def test_discovery_names_the_jwks_and_introspection_endpoints(app: oxauth.OxAuth) -> None:
    found = call(app, "GET", oxauth.DISCOVERY_PATHS[0]).body
    assert found["jwks_uri"] == ISSUER + oxauth.JWKS_PATH
    assert found["introspection_endpoint"] == ISSUER + oxauth.INTROSPECTION_PATH


def test_jwks_publishes_the_keystore_public_keys(app: oxauth.OxAuth, keystore_path: Path) -> None:
    document = json.loads(keystore_path.read_text())
    answer = call(app, "GET", oxauth.JWKS_PATH)
    assert answer.status == 200
    assert answer.body == oxauth.Keystore.from_document(document).jwks()
    assert '"d"' not in json.dumps(answer.body)
    assert call(app, "POST", oxauth.JWKS_PATH).status == 405


def test_jwks_follows_a_rewrite_of_the_file(app: oxauth.OxAuth, keystore_path: Path) -> None:
    document = oxauth.with_key(json.loads(keystore_path.read_text()), oxauth.new_key())
    write(keystore_path, document)
    kids = [k["kid"] for k in call(app, "GET", oxauth.JWKS_PATH).body["keys"]]
    assert kids == [k["kid"] for k in document["keys"]]


def test_introspection_says_whether_a_token_is_valid_here(
    app: oxauth.OxAuth, keystore_path: Path
) -> None:
    document = json.loads(keystore_path.read_text())
    token = sign(document, sid="s1")
    answer = call(app, "POST", oxauth.INTROSPECTION_PATH, f"token={token}".encode(), form=True)
    assert answer.status == 200
    assert answer.body["active"] is True
    assert answer.body["sub"] == "admin" and answer.body["iss"] == ISSUER
    as_json = call(app, "POST", oxauth.INTROSPECTION_PATH, json.dumps({"token": token}).encode())
    assert as_json.body["active"] is True
    elsewhere = sign(oxauth.new_keystore())
    refused = call(
        app, "POST", oxauth.INTROSPECTION_PATH, json.dumps({"token": elsewhere}).encode()
    )
    assert (refused.status, refused.body) == (200, {"active": False})


def test_introspection_needs_a_token_and_a_post(app: oxauth.OxAuth) -> None:
    assert call(app, "POST", oxauth.INTROSPECTION_PATH, b"{}").status == 400
    assert call(app, "GET", oxauth.INTROSPECTION_PATH).status == 405


def test_without_a_keystore_jwks_and_introspection_are_unavailable(
    app: oxauth.OxAuth, keystore_path: Path
) -> None:
    token = sign(json.loads(keystore_path.read_text()))
    shutil.copy(keystore_path, keystore_path.with_suffix(".kept"))
    keystore_path.unlink()
    fresh = oxauth.OxAuth(
        ldap=app.ldap,
        cache=app.cache,
        suffix="o=gluu",
        issuer_host="login.example.org",
        node="n2",
        keys=oxauth.KeystoreFile(str(keystore_path)),
    )
    assert call(fresh, "GET", oxauth.JWKS_PATH).status == 503
    body = json.dumps({"token": token}).encode()
    assert call(fresh, "POST", oxauth.INTROSPECTION_PATH, body).status == 503
    os.replace(keystore_path.with_suffix(".kept"), keystore_path)
    assert call(fresh, "POST", oxauth.INTROSPECTION_PATH, body).body["active"] is True
