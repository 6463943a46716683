"""Key rotation on a serving lab of its own, under a steady login loop through the
balancer (each token validated on the other node): no validation ever fails.

The manager's token lifetime is set to 15 s while the lab's identity app still
issues tokens valid for an hour: the rotation then waits only 15 s before removing
the old key, and the tokens issued before it, still unexpired, show that the old key
is gone from every node once removed (and that it was there until then).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cli_runner import Cli
from clustermgr.components.keys import keystore
from clustermgr.components.keys.rotate import rotate
from clustermgr.components.keys.status import status
from clustermgr.components.keys.store import change_settings, keys_state, sealed_keystore
from clustermgr.core.manager import Manager
from clustermgr.lab.gluu import oxauth
from clustermgr.plan.events import Event
from labfixture import SLOT, Lab, running_lab
from lblab import balance
from loginloop import looping

pytestmark = pytest.mark.integration

NODES = ["idp1", "idp2"]
LIFETIME = 15


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("keys-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        report = await balance(running)
        assert report["ok"], json.dumps(report, indent=1)
        yield running


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        await change_settings(
            opened, lab.config.cluster, {"token_lifetime": LIFETIME}, actor="tester"
        )
        yield opened
    finally:
        await opened.close()


def kid_of(token: str) -> str:
    header = token.split(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


async def signing_kid(manager: Manager, cluster: str) -> str:
    async with manager.store() as store:
        _, document = await sealed_keystore(store, await store.cluster(cluster))
    return keystore.signing_kid(document)


async def accepted(lab: Lab, node: str, token: str) -> bool:
    url = f"https://{lab.host(node).address}{oxauth.INTROSPECTION_PATH}"
    async with httpx.AsyncClient(verify=False, timeout=10) as http:
        answer = await http.post(url, json={"token": token})
    assert answer.status_code == 200, answer.text
    return bool(answer.json().get("active"))


async def published(lab: Lab, node: str) -> set[str]:
    url = f"https://{lab.host(node).address}{oxauth.JWKS_PATH}"
    async with httpx.AsyncClient(verify=False, timeout=10) as http:
        answer = await http.get(url)
    return {str(k["kid"]) for k in answer.json()["keys"]}


async def test_a_rotation_under_load_fails_no_validation(lab: Lab, manager: Manager) -> None:
    cluster = lab.config.cluster
    old = await signing_kid(manager, cluster)
    async with looping(lab, NODES, rate=4) as loop:
        await loop.wait_logins(8)
        before = list(loop.tokens)
        assert {kid_of(t) for t in before} == {old}
        first = await rotate(manager, cluster, dry_run=False, actor="tester", wait=False)
        assert [p.state for p in first.phases] == ["done", "done", "waiting"], first.as_dict()
        new = await signing_kid(manager, cluster)
        assert new != old
        # Signing with the new key, the old one still in every keystore.
        for node in NODES:
            assert await published(lab, node) == {old, new}
            for token in before:
                assert await loop.validate(node, token), f"{node} refused an earlier token"
        await loop.wait_logins(8)
        last = await rotate(manager, cluster, dry_run=False, actor="tester", wait=True)
        assert last.ok and [p.state for p in last.phases] == ["done"], last.as_dict()
        issued = len(loop.tokens)
        await loop.wait_logins(8)
        after = loop.tokens[issued:]
    assert loop.failures == [], loop.summary()
    assert set(loop.issued_by) == set(NODES), loop.summary()
    assert after and {kid_of(t) for t in after} == {new}
    for node in NODES:
        assert await published(lab, node) == {new}
        for token in before[:3]:
            assert not await accepted(lab, node, token), "the old key is gone from every node"
    assert (await keys_state(manager, cluster)).rotation is None


async def test_a_rotation_cancelled_after_the_add_resumes(lab: Lab, manager: Manager) -> None:
    cluster = lab.config.cluster
    old = await signing_kid(manager, cluster)
    added: list[str] = []

    def note(event: Event) -> None:
        if event.message.startswith("add the new key: done"):
            added.append(event.message)

    async with looping(lab, NODES, rate=4) as loop:
        stopped = await rotate(
            manager, cluster, dry_run=False, emit=note, cancelled=lambda: bool(added)
        )
        assert [p.state for p in stopped.phases] == ["done", "not run", "not run"]
        state = (await keys_state(manager, cluster)).rotation
        assert state is not None and state.phase.value == "sign"
        assert await signing_kid(manager, cluster) == old, "the old key still signs"
        for node in NODES:
            assert await published(lab, node) == {old, state.new_kid}
        await loop.wait_logins(6)
        resumed = await rotate(manager, cluster, dry_run=False, wait=True)
        assert [p.phase.value for p in resumed.phases] == ["sign", "remove"]
        assert resumed.ok, resumed.as_dict()
        await loop.wait_logins(6)
    assert loop.failures == [], loop.summary()
    assert await signing_kid(manager, cluster) == state.new_kid
    for node in NODES:
        assert await published(lab, node) == {state.new_kid}


async def test_a_node_out_of_reach_fails_the_add_and_a_rerun_completes(
    lab: Lab, manager: Manager
) -> None:
    cluster = lab.config.cluster
    old = await signing_kid(manager, cluster)
    idp2 = lab.host("idp2").fqdn
    lab.partition("idp2")
    try:
        failed = await rotate(manager, cluster, dry_run=False, wait=False)
        away = await status(manager, cluster)
    finally:
        lab.heal("idp2")
    assert not away.ok
    assert [away.node_state(n) for n in away.nodes] == ["differs", "unknown"], away.as_dict()
    assert [p.state for p in failed.phases] == ["failed", "not run", "not run"]
    assert f"{idp2} does not answer" in failed.message, failed.message
    state = (await keys_state(manager, cluster)).rotation
    assert state is not None and state.phase.value == "add"
    assert await published(lab, "idp1") == {old}, "nothing written while a node is away"
    done = await rotate(manager, cluster, dry_run=False, wait=True)
    assert done.ok, done.as_dict()
    assert await signing_kid(manager, cluster) == state.new_kid
    for node in NODES:
        assert await published(lab, node) == {state.new_kid}
    cli = Cli(Path(lab.settings.data_dir), verbose=False)
    said = await asyncio.to_thread(cli, "keys", "status", cluster, "--json")
    assert said.code == 0, said.stderr
    shown = said.json()
    assert [k["key_id"] for k in shown["keys"]] == [state.new_kid] and shown["rotation"] is None
    assert [n["state"] for n in shown["nodes"]] == ["same", "same"]
    assert [n["kids"] for n in shown["nodes"]] == [[state.new_kid]] * 2
