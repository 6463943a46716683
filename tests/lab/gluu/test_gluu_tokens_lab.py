"""Tokens across installed lab nodes: one node's token validates on another exactly when
that node's keystore holds its key, and a rotation by rewriting the keystore files keeps
every token valid until its key is removed."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from clustermgr.lab.gluu import directory as gluu
from clustermgr.lab.gluu import oxauth
from gluuhttp import https, login
from labfixture import Lab

pytestmark = pytest.mark.integration

NODES = ("idp1", "idp2")
APP_PID = "cat /run/oxauth.pid"


async def read_keystore(lab: Lab, node: str) -> dict[str, Any]:
    return dict(json.loads(await lab.sh(node, 'cat "$1"', gluu.OXAUTH_KEYSTORE)))


async def write_keystore(lab: Lab, node: str, document: Mapping[str, Any]) -> None:
    """Rewrite the node's keystore as a rotation does: a new file renamed over it."""
    async with lab.access() as access:
        conn = await access.connection(lab.host(node).fqdn)
        temp = f"{gluu.OXAUTH_KEYSTORE}.new"
        await conn.put(temp, oxauth.keystore_text(document).encode(), mode=0o600)
    await lab.sh(node, 'chmod 600 "$1" && mv "$1" "$2"', temp, gluu.OXAUTH_KEYSTORE)


async def active(lab: Lab, node: str, token: str) -> bool:
    status, body = await https(lab, node, oxauth.INTROSPECTION_PATH, {"token": token})
    assert status == 200, body
    return bool(body["active"])


async def token_from(lab: Lab, node: str) -> str:
    status, body = await login(lab, node)
    assert status == 200, body
    return str(body["access_token"])


def kid_of(token: str) -> str:
    return str(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"])


@pytest.fixture
async def keystores(lab: Lab) -> AsyncIterator[dict[str, dict[str, Any]]]:
    """Each node's keystore as installed, put back afterwards (the lab is the session's)."""
    kept = {node: await read_keystore(lab, node) for node in NODES}
    try:
        yield kept
    finally:
        for node, document in kept.items():
            await write_keystore(lab, node, document)


async def test_a_token_validates_on_the_nodes_holding_its_key(
    lab: Lab, keystores: dict[str, dict[str, Any]]
) -> None:
    first = keystores["idp1"]
    assert len(first["keys"]) == 1 and first["signing_kid"] == first["keys"][0]["kid"]
    assert (await lab.sh("idp1", 'stat -c %a "$1"', gluu.OXAUTH_KEYSTORE)).strip() == "600"
    await write_keystore(lab, "idp2", oxauth.new_keystore())  # a node with other keys

    token = await token_from(lab, "idp1")
    assert kid_of(token) == first["signing_kid"]
    assert await active(lab, "idp1", token)
    assert not await active(lab, "idp2", token)

    await write_keystore(lab, "idp2", first)  # the cluster's keystore on both
    assert await active(lab, "idp2", token)
    status, jwks = await https(lab, "idp2", oxauth.JWKS_PATH)
    assert status == 200
    assert jwks == oxauth.Keystore.from_document(first).jwks()
    assert all("d" not in key for key in jwks["keys"])


async def test_a_rotation_by_rewriting_the_keystores_fails_no_validation(
    lab: Lab, keystores: dict[str, dict[str, Any]]
) -> None:
    first = keystores["idp1"]
    for node in NODES:
        await write_keystore(lab, node, first)
    pids = {node: await lab.sh(node, APP_PID) for node in NODES}
    old_token = await token_from(lab, "idp1")
    new = oxauth.new_key()

    added = oxauth.with_key(first, new)
    for node in NODES:  # 1. every node gets the new key; the old one still signs
        await write_keystore(lab, node, added)
    for node in NODES:
        status, jwks = await https(lab, node, oxauth.JWKS_PATH)
        assert status == 200
        assert {k["kid"] for k in jwks["keys"]} == {first["signing_kid"], new["kid"]}
        assert await active(lab, node, old_token)

    switched = oxauth.with_signing_key(added, new["kid"])
    await write_keystore(lab, "idp2", switched)  # 2. the new key signs, one node after another
    new_token = await token_from(lab, "idp2")
    assert kid_of(new_token) == new["kid"]
    assert await active(lab, "idp1", new_token)  # not switched yet: it has the key
    await write_keystore(lab, "idp1", switched)
    assert kid_of(await token_from(lab, "idp1")) == new["kid"]
    for node in NODES:
        assert await active(lab, node, old_token) and await active(lab, node, new_token)

    removed = oxauth.without_key(switched, first["signing_kid"])
    for node in NODES:  # 3. the old key goes: its tokens with it
        await write_keystore(lab, node, removed)
        assert not await active(lab, node, old_token)
        assert await active(lab, node, new_token)
    assert {node: await lab.sh(node, APP_PID) for node in NODES} == pids  # never restarted
