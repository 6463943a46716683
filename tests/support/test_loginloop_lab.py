"""The login loop counts what a client sees: logins through the balancer, each token
validated on another node; nodes that refuse each other's tokens show up as failures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.lab.gluu import directory as gluu
from clustermgr.lab.gluu import oxauth
from labfixture import SLOT, Lab, running_lab
from lblab import balance
from loginloop import looping

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("login-loop-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        report = await balance(running)
        assert report["ok"], json.dumps(report, indent=1)
        yield running


async def test_logins_through_the_balancer_validate_on_the_other_node(lab: Lab) -> None:
    async with looping(lab, ["idp1", "idp2"], rate=4) as loop:
        await loop.wait_logins(12)
    assert loop.failures == [], loop.summary()
    assert set(loop.issued_by) == {"idp1", "idp2"}, loop.summary()
    # Each token went to the node that did not issue it.
    assert loop.validated_on["idp2"] >= loop.issued_by["idp1"] > 0, loop.summary()
    assert loop.validations == loop.logins


async def test_a_node_that_refuses_the_tokens_counts_as_failures(lab: Lab) -> None:
    kept = await lab.sh("idp2", 'cat "$1"', gluu.OXAUTH_KEYSTORE)
    other = oxauth.keystore_text(oxauth.new_keystore())
    await lab.sh("idp2", 'printf %s "$2" > "$1"', gluu.OXAUTH_KEYSTORE, other)
    try:
        async with looping(lab, ["idp1", "idp2"], rate=4) as loop:
            await loop.wait_logins(8)
    finally:
        await lab.sh("idp2", 'printf %s "$2" > "$1"', gluu.OXAUTH_KEYSTORE, kept)
    # Each node's tokens are refused by the other: every validation fails, no login does.
    assert len(loop.failures) == loop.logins >= 8, loop.summary()
    assert all(f.what == "validate" and "refused" in f.detail for f in loop.failures)
    assert {f.node for f in loop.failures} == {"idp1", "idp2"}, loop.summary()
