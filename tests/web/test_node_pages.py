"""The node pages: "Add a node" (the server add's form and host key confirmation, the
node stored as joining, then the node-add job's page), "Resume adding", and the
removal confirmation (what is lost, a node that does not answer, the last identity node
refused); and the cluster page's states and buttons.

The clusters are the tests' own, in the lab's inventory.  Their servers are never set up:
a node that "answers" is given a lab host's address, one that does not a closed loopback
port.  The clients that post a private key do not log bodies (the confirmation page
carries the key in its form, by design, which the leak checks would flag).
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import NodeState, ServerSpec
from clustermgr.jobs import store as job_store
from clustermgr.jobs.lifecycle import ADD_KIND, REMOVE_KIND
from clustermgr.jobs.models import JobState
from clustermgr.services import clusters
from clustermgr.topology import Role
from labfixture import Lab
from webfixture import WebUser, client, hidden_csrf, sign_in, wait_for_job

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _alert(text: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</div>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def _fields(text: str, action: str) -> dict[str, str]:
    """The fields a browser posts with the form posting to ``action``, no box ticked."""
    found = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', text, re.S)
    assert found, f"no form posting to {action}"
    body = found.group(1)
    inputs = re.findall(r"<input[^>]*>", body)
    fields = {
        name: html.unescape(value)
        for tag in inputs
        if 'type="checkbox"' not in tag  # a browser sends only the ticked ones
        for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', tag)
    }
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S
    ):
        fields[name] = html.unescape(value)
    return fields


@pytest.fixture
async def quiet(web_app: FastAPI, web_admin: WebUser) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=web_app) as http:
        await sign_in(http, web_admin.username, web_admin.password)
        yield http


class Clusters:
    """Clusters of the test's own in the lab's inventory, removed afterwards."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.names: list[str] = []

    async def make(self, *servers: tuple[str, str, int, Role, NodeState]) -> str:
        """A new cluster with ``servers`` (short name, address, SSH port, role, state)."""
        name = f"nodes-{secrets.token_hex(3)}"
        await clusters.create_cluster(self.manager, name)
        self.names.append(name)
        async with self.manager.store() as store:
            for short, address, port, role, state in servers:
                host = f"{short}.{name}.test"
                added = NodeState.MEMBER if state is NodeState.LEAVING else state
                spec = ServerSpec(name, host, address, role, ssh_port=port, state=added)
                await store.add_server(spec, None, [])
                if state is NodeState.LEAVING:  # a node is never added leaving
                    await store.set_state(name, host, state)
        return name


@pytest.fixture
async def made(app_manager: Manager) -> AsyncIterator[Clusters]:
    made = Clusters(app_manager)
    yield made
    for name in made.names:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(app_manager, name)


def _dead(
    short: str, role: Role = Role.IDENTITY, state: NodeState = NodeState.MEMBER
) -> tuple[str, str, int, Role, NodeState]:
    return (short, "127.0.0.1", _closed_port(), role, state)


async def test_the_cluster_page_shows_node_states_and_offers_add_resume_remove(
    gui: httpx.AsyncClient, made: Clusters, app_manager: Manager
) -> None:
    name = await made.make(
        _dead("idp1"),
        _dead("idp2", state=NodeState.JOINING),
        _dead("idp3", state=NodeState.LEAVING),
        _dead("proxy1", Role.PROXY),
    )
    text = (await gui.get(f"/clusters/{name}")).text
    assert f'href="/clusters/{name}/nodes/add">Add a node</a>' in text
    cells = dict(re.findall(r'<td class="node-state" data-node="([^"]+)">(.*?)</td>', text, re.S))
    idp1, idp2, idp3, proxy = (
        cells[f"{h}.{name}.test"] for h in ("idp1", "idp2", "idp3", "proxy1")
    )
    assert '<span class="state state-joining">joining</span>' in idp2
    assert '<span class="state state-leaving">leaving</span>' in idp3
    assert "member" in idp1 and "state-" not in idp1
    assert "Resume adding" in idp2 and "Resume adding" not in idp1 + idp3
    for node, cell in (("idp1", idp1), ("idp2", idp2), ("idp3", idp3)):
        assert f'href="/clusters/{name}/nodes/{node}.{name}.test/remove"' in cell
    assert "/remove" not in proxy and "Resume" not in proxy, "a proxy neither joins nor leaves"

    # While its job runs, the node links to the job instead of offering to start one.
    job = await job_store.create(
        app_manager,
        kind=ADD_KIND,
        cluster=name,
        mutating=True,
        user="t",
        params={"node": f"idp2.{name}.test"},
        runner="x",
    )
    try:
        text = (await gui.get(f"/clusters/{name}")).text
        cells = dict(
            re.findall(r'<td class="node-state" data-node="([^"]+)">(.*?)</td>', text, re.S)
        )
        busy = cells[f"idp2.{name}.test"]
        assert f'<a href="/jobs/{job.id}">being added: job #{job.id}</a>' in busy
        assert "Resume adding" not in busy and "/remove" not in busy
    finally:
        await job_store.finish(app_manager, job.id, JobState.FAILED, result={})


async def test_resume_adding_runs_node_add_again_and_only_on_a_joining_node(
    gui: httpx.AsyncClient, made: Clusters
) -> None:
    name = await made.make(_dead("idp1"), _dead("idp2", state=NodeState.JOINING))
    text = (await gui.get(f"/clusters/{name}")).text
    action = f"/clusters/{name}/nodes/idp2.{name}.test/resume"
    answer = await gui.post(action, data=_fields(text, action))
    assert answer.status_code == 303
    job_id = int(answer.headers["location"].removeprefix("/jobs/"))
    job = await wait_for_job(gui, job_id)
    assert (job["kind"], job["params"]) == (ADD_KIND, {"node": f"idp2.{name}.test"})
    assert job["state"] == "failed", "the node does not answer: its preflight fails"
    report = (await gui.get(answer.headers["location"])).text
    assert 'is now <span class="state state-joining">joining</span>: the job stopped' in report
    assert "preflight: ssh login: " in _alert(report)
    text = (await gui.get(f"/clusters/{name}")).text
    assert "Resume adding" in text, "it is still joining: offered again"

    member = f"/clusters/{name}/nodes/idp1.{name}.test/resume"
    refused = await gui.post(member, data={"csrf_token": hidden_csrf(text)})
    assert refused.status_code == 400
    assert f"idp1.{name}.test is member: only a node still joining is resumed" in _alert(
        refused.text
    )


async def test_the_add_form_is_the_server_form_for_an_identity_node(
    gui: httpx.AsyncClient, made: Clusters
) -> None:
    name = await made.make(_dead("idp1"))
    answer = await gui.get(f"/clusters/{name}/nodes/add")
    assert answer.status_code == 200
    assert f"<h1>Add a node to {name}</h1>" in answer.text
    assert f'action="/clusters/{name}/nodes/add"' in answer.text
    assert 'name="role"' not in answer.text and 'name="cluster"' not in answer.text
    assert "Required, OpenSSH or PEM" in answer.text, "the server form's key fields"
    assert (await gui.get("/clusters/no-such-cluster/nodes/add")).status_code == 404


async def test_bad_input_shows_the_error_on_the_form_keeps_what_was_typed_stores_nothing(
    quiet: httpx.AsyncClient, made: Clusters, lab: Lab, tmp_path: Path
) -> None:
    name = await made.make(_dead("idp1"))
    action = f"/clusters/{name}/nodes/add"
    host = lab.host("idp1")
    lab_key = lab.config.ssh_key.read_text()
    typed = {
        "hostname": f"idp7.{name}.test",
        "address": host.address,
        "ssh_port": "22",
        "ssh_user": "root",
        "private_key": lab_key,
    }

    async def post(**change: str) -> httpx.Response:
        token = hidden_csrf((await quiet.get(action)).text)
        return await quiet.post(action, data={**typed, **change, "csrf_token": token})

    async def nothing_stored() -> None:
        view = await get_cluster(quiet_manager, name)
        assert [s.hostname for s in view.servers] == [f"idp1.{name}.test"]

    quiet_manager = made.manager
    bad = await post(hostname="not_a_host")
    assert bad.status_code == 400 and "invalid hostname 'not_a_host'" in _alert(bad.text)
    kept = _fields(bad.text, action)
    assert kept["hostname"] == "not_a_host" and kept["address"] == host.address
    assert kept["private_key"].strip() == lab_key.strip(), "the key too"

    closed = str(_closed_port())
    unreachable = await post(address="127.0.0.1", ssh_port=closed)
    assert unreachable.status_code == 502
    assert f"cannot read the SSH host key of 127.0.0.1:{closed}" in _alert(unreachable.text)
    assert _fields(unreachable.text, action)["ssh_port"] == closed
    await nothing_stored()

    confirm = await post()
    assert confirm.status_code == 200, _alert(confirm.text)
    assert f"Confirm the host key of idp7.{name}.test" in confirm.text
    shown = re.search(r'<code id="fingerprint">([^<]+)</code>', confirm.text)
    command = re.search(r'<code id="compare-command">([^<]+)</code>', confirm.text)
    assert shown and command and shown.group(1) in await lab.sh("idp1", command.group(1))
    assert "trust the key and add the node" in confirm.text
    fields = _fields(confirm.text, action)
    assert fields["fingerprint"] == shown.group(1)

    mismatch = await quiet.post(action, data={**fields, "fingerprint": "SHA256:" + "A" * 43})
    assert mismatch.status_code == 409
    assert "does not match the fingerprint you gave" in _alert(mismatch.text)
    assert _fields(mismatch.text, action)["hostname"] == f"idp7.{name}.test"

    key_file = tmp_path / "other_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_file)], check=True)
    wrong = await quiet.post(action, data={**fields, "private_key": key_file.read_text()})
    assert wrong.status_code == 502, "the host refuses a key it does not know"
    assert "did not accept the private key" in _alert(wrong.text)
    assert _fields(wrong.text, action)["address"] == host.address
    await nothing_stored()


async def test_trust_and_add_stores_the_node_joining_and_lands_on_its_job(
    quiet: httpx.AsyncClient, made: Clusters, lab: Lab
) -> None:
    name = await made.make(_dead("idp1"))
    action = f"/clusters/{name}/nodes/add"
    host = lab.host("idp2")
    token = hidden_csrf((await quiet.get(action)).text)
    data = {
        "csrf_token": token,
        "hostname": f"idp8.{name}.test",
        "address": host.address,
        "ssh_port": "22",
        "ssh_user": "root",
        "role": "proxy",  # ignored: a node is an identity server
        "cluster": "elsewhere",  # ignored: the page's cluster
    }
    key = ("lab_ed25519", lab.config.ssh_key.read_bytes(), "application/octet-stream")
    confirm = await quiet.post(action, data=data, files={"key_file": key})
    assert confirm.status_code == 200, _alert(confirm.text)
    added = await quiet.post(action, data=_fields(confirm.text, action))
    assert added.status_code == 303, _alert(added.text)
    assert re.fullmatch(r"/jobs/\d+", added.headers["location"])
    job = await wait_for_job(quiet, int(added.headers["location"].removeprefix("/jobs/")))
    assert (job["kind"], job["params"]) == (ADD_KIND, {"node": f"idp8.{name}.test"})
    view = await get_cluster(made.manager, name)
    node = next(s for s in view.servers if s.hostname == f"idp8.{name}.test")
    assert node.role is Role.IDENTITY and node.host_keys
    # A host named otherwise than the node may fail its preflight (it stays joining);
    # else nothing is set up on this cluster and it becomes a member at once.
    expected = NodeState.MEMBER if job["state"] == "succeeded" else NodeState.JOINING
    assert node.state is expected, job
    with pytest.raises(NotFound):
        await get_cluster(made.manager, "elsewhere")


async def test_the_removal_page_lists_what_is_lost_and_offers_uninstall_when_it_answers(
    gui: httpx.AsyncClient, made: Clusters, lab: Lab
) -> None:
    answering = ("idp1", lab.host("idp1").address, 22, Role.IDENTITY, NodeState.MEMBER)
    name = await made.make(answering, _dead("idp2"))
    text = (await gui.get(f"/clusters/{name}/nodes/idp1.{name}.test/remove")).text
    assert f"<h1>Remove idp1.{name}.test from cluster {name}</h1>" in text
    assert 'id="lost-items"' in text and "without being touched" not in text
    checkbox = re.search(r'<input type="checkbox" id="uninstall"[^>]*>', text)
    assert checkbox and "disabled" not in checkbox.group(0)
    assert f"Remove idp1.{name}.test from the cluster</button>" in text

    dead = (await gui.get(f"/clusters/{name}/nodes/idp2.{name}.test/remove")).text
    assert "it will be removed without being touched" in dead
    assert f"idp2.{name}.test is not reachable: nothing on it is touched" in dead, "lost list"
    checkbox = re.search(r'<input type="checkbox" id="uninstall"[^>]*>', dead)
    assert checkbox and "disabled" in checkbox.group(0)


async def test_the_last_identity_node_is_refused_with_the_reason_and_no_button(
    gui: httpx.AsyncClient, made: Clusters, app_manager: Manager
) -> None:
    name = await made.make(_dead("idp1"), _dead("proxy1", Role.PROXY))
    path = f"/clusters/{name}/nodes/idp1.{name}.test/remove"
    answer = await gui.get(path)
    assert answer.status_code == 400
    assert f"idp1.{name}.test is the last identity node of cluster '{name}'" in _alert(answer.text)
    assert "add another node first" in _alert(answer.text)
    assert "<button" not in answer.text.split('id="refused"', 1)[1].split("</section>")[0]
    posted = await gui.post(path, data={"csrf_token": hidden_csrf(answer.text)})
    assert posted.status_code == 400 and "last identity node" in _alert(posted.text)
    history = await job_store.summaries(app_manager, cluster=name, limit=5)
    assert history == [], "no job started"
    proxy = await gui.get(f"/clusters/{name}/nodes/proxy1.{name}.test/remove")
    assert proxy.status_code == 400 and "only identity nodes join and leave" in _alert(proxy.text)


async def test_confirming_starts_node_remove_and_lands_on_its_job(
    gui: httpx.AsyncClient, made: Clusters
) -> None:
    name = await made.make(_dead("idp1"), _dead("idp2"))
    path = f"/clusters/{name}/nodes/idp2.{name}.test/remove"
    text = (await gui.get(path)).text
    answer = await gui.post(path, data=_fields(text, path))
    assert answer.status_code == 303
    job = await wait_for_job(gui, int(answer.headers["location"].removeprefix("/jobs/")))
    assert (job["kind"], job["params"]) == (
        REMOVE_KIND,
        {"node": f"idp2.{name}.test"},
    ), "uninstall left unchecked: the default"
    assert job["state"] == "succeeded", job
    view = await get_cluster(made.manager, name)
    assert [s.hostname for s in view.servers] == [f"idp1.{name}.test"], "taken out untouched"
    report = (await gui.get(answer.headers["location"])).text
    assert f"idp2.{name}.test left the inventory." in report
    assert f"idp2.{name}.test is not reachable: nothing on it is touched" in report


async def test_a_node_is_not_stored_while_a_job_changes_the_cluster(
    quiet: httpx.AsyncClient, made: Clusters, lab: Lab, app_manager: Manager
) -> None:
    name = await made.make(_dead("idp1"))
    action = f"/clusters/{name}/nodes/add"
    host = lab.host("idp2")
    typed = {
        "hostname": f"idp9.{name}.test",
        "address": host.address,
        "ssh_port": "22",
        "ssh_user": "root",
        "private_key": lab.config.ssh_key.read_text(),
    }
    job = await job_store.create(
        app_manager, kind="deploy", cluster=name, mutating=True, user="t", params={}, runner="x"
    )
    try:
        token = hidden_csrf((await quiet.get(action)).text)
        refused = await quiet.post(action, data={**typed, "csrf_token": token})
    finally:
        await job_store.finish(app_manager, job.id, JobState.FAILED, result={})
    assert refused.status_code == 409
    assert f"job #{job.id} (deploy, queued) is changing cluster '{name}'" in _alert(refused.text)
    assert _fields(refused.text, action)["hostname"] == f"idp9.{name}.test"
    view = await get_cluster(app_manager, name)
    assert [s.hostname for s in view.servers] == [f"idp1.{name}.test"], "nothing stored"
