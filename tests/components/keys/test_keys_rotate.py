"""The rotation's service over the inventory (SQLite and PostgreSQL), its nodes faked:
phases in order, the state kept between runs, a node out of reach, a cancel, the audit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from clustermgr.audit import service as audit
from clustermgr.components.keys import keystore, nodes
from clustermgr.components.keys import rotate as service
from clustermgr.components.keys.keystore import KEYSTORE
from clustermgr.components.keys.rotation import Phase
from clustermgr.components.keys.status import sealed
from clustermgr.components.keys.store import change_settings, keys_state, sealed_keystore
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.plan.events import Emit
from clustermgr.plan.model import ApplyReport, Outcome, Plan, StepResult
from clustermgr.services import clusterfiles
from replicationdata import IDP1, IDP2, add_cluster

CERT = "/etc/certs/httpd.crt"


@dataclass
class FakeNodes:
    """Identity nodes as the rotation sees them: each one's keystore, and which answer."""

    files: dict[str, bytes]
    down: set[str] = field(default_factory=set)
    #: Nodes that hold a keystore but do not publish it (an app that does not reload).
    stale: set[str] = field(default_factory=set)
    #: What a node publishes whatever it holds.
    publishes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)

    async def roots(
        self, access: object, hosts: Sequence[str]
    ) -> tuple[dict[str, str | None], dict[str, str]]:
        up: dict[str, str | None] = {h: None for h in hosts if h not in self.down}
        return up, {h: f"{h} does not answer: timed out" for h in hosts if h in self.down}

    async def write(
        self, access: object, plan: Plan, *, emit: Emit, cancelled: Callable[[], bool]
    ) -> ApplyReport:
        results: dict[str, list[StepResult]] = {}
        for step in plan.steps:
            (change,) = step.files
            assert change.path == KEYSTORE.path and change.mode == 0o600 and change.sensitive
            same = self.files.get(step.host) == change.content
            if not same:
                self.files[step.host] = change.content
                self.writes.append(step.host)
            outcome = Outcome.UNCHANGED if same else Outcome.CHANGED
            results[step.host] = [StepResult(step.id, step.host, step.title, outcome, "")]
        return ApplyReport(plan.title, False, results)

    async def read_nodes(
        self, access: object, roots: dict[str, str | None], *, timeout: float
    ) -> list[nodes.NodeKeys]:
        out = []
        for host in roots:
            content = self.files[host]
            kids = keystore.kids(json.loads(content))
            if host in self.stale:
                kids = kids[:1]
            shown = self.publishes.get(host, tuple(kids))
            out.append(nodes.NodeKeys(host, hashlib.sha256(content).hexdigest(), shown))
        return out


@asynccontextmanager
async def _no_access() -> AsyncIterator[object]:
    yield object()


@pytest.fixture
async def cluster(manager: Manager) -> str:
    name = await add_cluster(manager)
    key = keystore.new_key()
    first = keystore.text({"signing_kid": key["kid"], "keys": [key]})
    async with manager.store() as store:
        found = await store.cluster(name)
        await clusterfiles.seal(store, found, {CERT: b"cert", KEYSTORE.path: first})
    await change_settings(manager, name, {"token_lifetime": 10}, actor="admin")
    return name


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, manager: Manager, cluster: str) -> FakeNodes:
    async def opened(*args: Any, **kwargs: Any) -> Any:
        return _no_access()

    monkeypatch.setattr(service, "open_access", opened)
    faked = FakeNodes({})
    monkeypatch.setattr(nodes, "roots", faked.roots)
    monkeypatch.setattr(nodes, "write", faked.write)
    monkeypatch.setattr(nodes, "read_nodes", faked.read_nodes)
    return faked


async def _keystore(manager: Manager, cluster: str) -> tuple[bytes, dict[str, Any]]:
    async with manager.store() as store:
        return await sealed_keystore(store, await store.cluster(cluster))


async def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    now = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(service, "utcnow", lambda: now)


async def test_a_rotation_adds_signs_then_removes_once_the_lifetime_passed(
    manager: Manager, cluster: str, fake: FakeNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, before = await _keystore(manager, cluster)
    old = keystore.signing_kid(before)
    planned = await service.rotate(manager, cluster, dry_run=True)
    assert [p.phase for p in planned.phases] == [Phase.ADD, Phase.SIGN, Phase.REMOVE]
    assert planned.ok and all(p.state == "would run" for p in planned.phases)

    first = await service.rotate(manager, cluster, dry_run=False, actor="alice", wait=False)
    assert [p.state for p in first.phases] == ["done", "done", "waiting"], first.as_dict()
    assert first.ok and "run again then" in first.message
    content, now = await _keystore(manager, cluster)
    new = keystore.signing_kid(now)
    assert new != old and keystore.kids(now) == [old, new]
    assert fake.files == {IDP1: content, IDP2: content}
    state = await keys_state(manager, cluster)
    assert state.rotation is not None and state.rotation.phase is Phase.REMOVE
    assert state.rotation.signing_since is not None and new in state.created
    # Planned now: only the removal is left, and when it can run.
    left = await service.rotate(manager, cluster, dry_run=True)
    assert [p.phase for p in left.phases] == [Phase.REMOVE] and "at 20" in left.phases[0].what

    await _later(monkeypatch, 11)
    last = await service.rotate(manager, cluster, dry_run=False, actor="alice", wait=True)
    assert [p.phase for p in last.phases] == [Phase.REMOVE] and last.ok, last.as_dict()
    content, after = await _keystore(manager, cluster)
    assert keystore.kids(after) == [new] and fake.files == {IDP1: content, IDP2: content}
    state = await keys_state(manager, cluster)
    assert state.rotation is None and state.last_rotated is not None
    shown = (await sealed(manager, cluster)).as_dict()
    assert shown["keys"] == [
        {"key_id": new, "signs": True, "created": state.created[new].isoformat(timespec="seconds")}
    ]

    actions = [e.action for e in await audit.entries(manager, actor="alice")]
    assert actions == ["keys.rotate.remove", "keys.rotate.sign", "keys.rotate.add"]


async def test_a_node_out_of_reach_fails_the_add_clearly_and_a_rerun_completes(
    manager: Manager, cluster: str, fake: FakeNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.down = {IDP2}
    failed = await service.rotate(manager, cluster, dry_run=False, actor="bob", wait=False)
    assert not failed.ok
    assert [p.state for p in failed.phases] == ["failed", "not run", "not run"]
    assert f"{IDP2} does not answer" in failed.message and "run again" in failed.message
    assert fake.writes == []  # nothing written while a node is out of reach
    # The sealed keystore holds the new key, the state names it: nothing is lost.
    state = await keys_state(manager, cluster)
    assert state.rotation is not None and state.rotation.phase is Phase.ADD
    _, document = await _keystore(manager, cluster)
    assert state.rotation.new_kid in keystore.kids(document)
    entry = (await audit.entries(manager, actor="bob"))[0]
    assert entry.action == "keys.rotate.add" and entry.result == "failed"

    fake.down = set()
    again = await service.rotate(manager, cluster, dry_run=False, actor="bob", wait=False)
    assert [p.state for p in again.phases] == ["done", "done", "waiting"], again.as_dict()
    _, document = await _keystore(manager, cluster)
    assert keystore.signing_kid(document) == state.rotation.new_kid  # the same new key
    assert len(keystore.kids(document)) == 2


async def test_a_node_that_does_not_publish_the_new_key_fails_the_add(
    manager: Manager, cluster: str, fake: FakeNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PUBLISH_TIMEOUT", 0.0)
    fake.stale = {IDP1}
    report = await service.rotate(manager, cluster, dry_run=False, wait=False)
    assert [p.state for p in report.phases] == ["failed", "not run", "not run"]
    assert f"{IDP1} does not publish key" in report.message
    state = await keys_state(manager, cluster)
    assert state.rotation is not None and state.rotation.phase is Phase.ADD


async def test_a_node_still_publishing_an_old_key_fails_the_removal(
    manager: Manager, cluster: str, fake: FakeNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PUBLISH_TIMEOUT", 0.0)
    await service.rotate(manager, cluster, dry_run=False, wait=False)
    state = (await keys_state(manager, cluster)).rotation
    assert state is not None and state.phase is Phase.REMOVE
    fake.publishes[IDP2] = (*state.old_kids, state.new_kid)
    await _later(monkeypatch, 11)
    report = await service.rotate(manager, cluster, dry_run=False, wait=False)
    assert [p.state for p in report.phases] == ["failed"]
    assert f"{IDP2} still publishes key {state.old_kids[0][:12]}" in report.message
    assert (await keys_state(manager, cluster)).rotation == state, "still to be removed"
    del fake.publishes[IDP2]
    done = await service.rotate(manager, cluster, dry_run=False, wait=False)
    assert done.ok and (await keys_state(manager, cluster)).rotation is None


async def test_a_node_whose_keystore_changed_after_the_write_fails_at_once(
    manager: Manager, cluster: str, fake: FakeNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def changed_by_hand(
        access: object, roots: dict[str, str | None], *, timeout: float
    ) -> list[nodes.NodeKeys]:
        return [nodes.NodeKeys(h, "0" * 64, ()) for h in roots]

    monkeypatch.setattr(nodes, "read_nodes", changed_by_hand)
    report = await service.rotate(manager, cluster, dry_run=False, wait=False)
    assert [p.state for p in report.phases] == ["failed", "not run", "not run"]
    assert f"{IDP1} does not hold the sealed keystore" in report.message


async def test_a_cancelled_rotation_resumes_where_it_stopped(
    manager: Manager, cluster: str, fake: FakeNodes
) -> None:
    def after_the_add() -> bool:
        return len(fake.writes) >= 2  # both nodes got the added key

    report = await service.rotate(
        manager, cluster, dry_run=False, wait=False, cancelled=after_the_add
    )
    assert [p.state for p in report.phases] == ["done", "not run", "not run"]
    assert not report.ok and "run again to resume" in report.message
    state = await keys_state(manager, cluster)
    assert state.rotation is not None and state.rotation.phase is Phase.SIGN
    resumed = await service.rotate(manager, cluster, dry_run=False, wait=False)
    assert [p.phase for p in resumed.phases] == [Phase.SIGN, Phase.REMOVE]
    assert [p.state for p in resumed.phases] == ["done", "waiting"]
    _, document = await _keystore(manager, cluster)
    assert keystore.signing_kid(document) == state.rotation.new_kid


async def test_cancelled_while_waiting_for_the_lifetime_keeps_the_old_key(
    manager: Manager, cluster: str, fake: FakeNodes
) -> None:
    calls: list[bool] = []

    def soon() -> bool:
        calls.append(True)
        return len(calls) > 6

    report = await service.rotate(manager, cluster, dry_run=False, wait=True, cancelled=soon)
    assert [p.state for p in report.phases] == ["done", "done", "not run"]
    _, document = await _keystore(manager, cluster)
    assert len(keystore.kids(document)) == 2


async def test_a_restart_drops_the_rotation_and_the_kept_state_is_checked(
    manager: Manager, cluster: str, fake: FakeNodes
) -> None:
    fake.down = {IDP1}
    await service.rotate(manager, cluster, dry_run=False, wait=False)
    first = (await keys_state(manager, cluster)).rotation
    assert first is not None
    fake.down = set()
    report = await service.rotate(manager, cluster, dry_run=False, wait=False, restart=True)
    assert [p.state for p in report.phases] == ["done", "done", "waiting"]
    second = (await keys_state(manager, cluster)).rotation
    assert second is not None and second.new_kid != first.new_kid
    # The first rotation's key is among the old ones: the next removal takes it too.
    assert first.new_kid in second.old_kids


async def test_without_a_sealed_keystore_nothing_runs(manager: Manager) -> None:
    name = await add_cluster(manager)
    with pytest.raises(InvalidInput, match="has no sealed /etc/certs/oxauth-keys"):
        await service.rotate(manager, name, dry_run=True)
    assert (await sealed(manager, name)).as_dict()["keys"] is None


def test_a_nodes_keys_are_read_from_one_command() -> None:
    sha = "a" * 64
    assert nodes.parse_read("n", f'{sha}\n{{"kids": ["A", "B"]}}\n') == nodes.NodeKeys(
        "n", sha, ("A", "B")
    )
    assert nodes.parse_read("n", '-\n{"kids": []}\n') == nodes.NodeKeys("n", None, ())
    refused = nodes.parse_read("n", f'{sha}\n{{"error": "URLError: refused"}}\n')
    assert refused.sha256 == sha and refused.kids is None and "refused" in refused.error
    assert nodes.parse_read("n", "garbage").error
    command = nodes.read_command("/opt/gluu-server").parts
    assert "/opt/gluu-server/etc/certs/oxauth-keys.json" in command
    assert nodes.JWKS_URL in command


async def test_a_cluster_without_a_json_keystore_is_told_what_is_rotated(
    manager: Manager,
) -> None:
    name = await add_cluster(manager)
    async with manager.store() as store:
        await clusterfiles.seal(store, await store.cluster(name), {CERT: b"cert"})
    with pytest.raises(InvalidInput) as refused:
        await service.rotate(manager, name, dry_run=True)
    assert "Java keystore is not" in (refused.value.hint or "")
