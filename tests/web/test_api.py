"""The REST API against the real app, a real SQLite file and the lab's servers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.errors import NotFound
from clustermgr.services import clusters, servers
from clustermgr.web.context import WebContext
from labfixture import Lab
from webfixture import BodyLog, WebUser, job_starts, wait_for_job, wait_idle

pytestmark = pytest.mark.integration

SCRATCH_CLUSTER = "apitest"


@pytest.fixture(autouse=True)
async def idle_afterwards(api: httpx.AsyncClient, lab: Lab) -> AsyncIterator[None]:
    """Every test leaves no job running and every lab host connected."""
    yield
    for host in lab.config.hosts():
        lab.heal(host.name)
    await wait_idle(api)


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The messages of an event stream: [{'event', 'id', 'data'}], comments dropped."""
    messages = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
            messages.append(fields)
    return messages


async def audit_actions(api: httpx.AsyncClient, actor: str) -> list[tuple[str, str, str]]:
    answer = await api.get("/api/v1/audit", params={"actor": actor, "limit": 200})
    assert answer.status_code == 200, answer.text
    return [(e["action"], e["target"], e["result"]) for e in answer.json()["items"]]


async def test_me_is_the_tokens_user(api: httpx.AsyncClient, web_admin: WebUser) -> None:
    answer = await api.get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.json()["username"] == web_admin.username
    assert answer.json()["totp_enabled"] is False


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cm_not-a-token"}, {"Authorization": "Basic YWRtaW46eA=="}],
)
async def test_a_valid_token_is_required(anon: httpx.AsyncClient, headers: dict[str, str]) -> None:
    answer = await anon.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"
    assert set(answer.json()) == {"error", "message", "hint"}


async def test_lists_the_labs_servers_and_cluster(api: httpx.AsyncClient, lab: Lab) -> None:
    expected = {h.fqdn: h for h in lab.config.hosts()}
    answer = await api.get("/api/v1/servers", params={"cluster": "lab"})
    assert answer.status_code == 200
    servers = {s["hostname"]: s for s in answer.json()}
    assert set(servers) == set(expected)
    for name, server in servers.items():
        assert server["address"] == expected[name].address
        assert server["role"] == expected[name].role.value
        assert server["host_keys"] and server["host_keys"][0]["fingerprint"].startswith("SHA256:")

    cluster = await api.get("/api/v1/clusters/lab")
    assert cluster.status_code == 200
    assert {s["hostname"] for s in cluster.json()["servers"]} == set(expected)
    # The lab installs its identity nodes with the name the cluster defaults to.
    assert cluster.json()["public_hostname"] == lab.config.public_hostname == "proxy1.lab.test"
    listing = await api.get("/api/v1/clusters")
    assert "lab" in {c["name"] for c in listing.json()}
    missing = await api.get("/api/v1/clusters/no-such-cluster")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


@pytest.fixture
async def scratch_cluster(web_app: FastAPI) -> AsyncIterator[str]:
    """A cluster name for servers the test adds; forgotten afterwards."""
    yield SCRATCH_CLUSTER
    web: WebContext = web_app.state.web
    with contextlib.suppress(NotFound):  # the test may not have created it
        await clusters.remove_cluster(web.manager, SCRATCH_CLUSTER)


async def test_adding_a_server_asks_to_confirm_its_host_key(
    api: httpx.AsyncClient, lab: Lab, web_admin: WebUser, scratch_cluster: str, web_app: FastAPI
) -> None:
    idp1 = lab.host("idp1")
    lab_servers = (await api.get("/api/v1/servers", params={"cluster": "lab"})).json()
    pinned = next(s for s in lab_servers if s["hostname"] == idp1.fqdn)["host_keys"][0]
    body = {
        "cluster": scratch_cluster,
        "hostname": "api-node.lab.test",
        "address": idp1.address,
        "role": "identity",
        "private_key": lab.config.ssh_key.read_text(),
    }

    unknown = await api.post("/api/v1/servers", json=body)
    assert unknown.status_code == 409, unknown.text
    assert unknown.json()["error"] == "host_key_unknown"
    assert unknown.json()["fingerprint"] == pinned["fingerprint"]
    assert unknown.json()["algorithm"] == pinned["algorithm"]
    listed = (await api.get("/api/v1/servers", params={"cluster": scratch_cluster})).json()
    assert listed == [], "nothing is stored before the key is confirmed"

    wrong = await api.post("/api/v1/servers", json={**body, "fingerprint": "SHA256:" + "A" * 43})
    assert wrong.status_code == 409
    assert wrong.json()["error"] == "host_key_mismatch"
    assert wrong.json()["presented"] == pinned["fingerprint"]
    assert "does not match the fingerprint you gave" in wrong.json()["message"]

    added = await api.post(
        "/api/v1/servers", json={**body, "fingerprint": unknown.json()["fingerprint"]}
    )
    assert added.status_code == 201, added.text
    assert added.json()["hostname"] == "api-node.lab.test"
    assert added.json()["host_keys"] == [pinned]
    assert "private_key" not in added.text
    again = await api.post("/api/v1/servers", json={**body, "fingerprint": pinned["fingerprint"]})
    assert again.status_code == 409
    assert again.json()["error"] == "already_exists"

    # Reached at another machine's address, as after a reinstall: refused until trusted.
    node = f"/api/v1/clusters/{scratch_cluster}/servers/api-node.lab.test"
    web: WebContext = web_app.state.web
    await servers.update_server(
        web.manager,
        scratch_cluster,
        "api-node.lab.test",
        address=lab.host("idp2").address,
        ssh_port=22,
        ssh_user="root",
        role="identity",
    )
    check = await api.get(f"{node}/host-key")
    assert check.status_code == 200, check.text
    assert check.json()["pinned"] == [pinned] and check.json()["trusted"] is False
    new = check.json()["presented"]
    assert new["algorithm"] == pinned["algorithm"] and new["fingerprint"] != pinned["fingerprint"]
    mismatch = await api.post(f"{node}/trust", json={"fingerprint": pinned["fingerprint"]})
    assert mismatch.status_code == 409 and mismatch.json()["error"] == "host_key_mismatch"
    trusted = await api.post(f"{node}/trust", json={"fingerprint": new["fingerprint"]})
    assert trusted.status_code == 200, trusted.text
    assert trusted.json() == {"pinned": [new], "presented": new, "trusted": True}

    removed = await api.delete(f"/api/v1/clusters/{scratch_cluster}/servers/api-node.lab.test")
    assert removed.status_code == 204
    gone = await api.delete(f"/api/v1/clusters/{scratch_cluster}/servers/api-node.lab.test")
    assert gone.status_code == 404

    trail = await audit_actions(api, web_admin.username)
    target = f"{scratch_cluster}/api-node.lab.test"
    assert ("server.add", target, "refused") in trail
    assert ("server.add", target, "ok") in trail
    assert ("server.trust", target, "refused") in trail
    assert ("server.trust", target, "ok") in trail
    assert ("server.remove", target, "ok") in trail
    assert ("server.remove", target, "failed") in trail


async def test_invalid_server_input_is_refused_without_echoing_the_key(
    api: httpx.AsyncClient, lab: Lab, scratch_cluster: str
) -> None:
    key = lab.config.ssh_key.read_text()
    body = {"cluster": scratch_cluster, "hostname": "x.lab.test", "role": "identity"}
    bad_role = await api.post("/api/v1/servers", json={**body, "role": "king", "private_key": key})
    assert bad_role.status_code == 422
    assert set(bad_role.json()) == {"error", "message", "hint"}
    bad_key = await api.post("/api/v1/servers", json={**body, "private_key": "not a key"})
    assert bad_key.status_code == 400
    assert bad_key.json()["error"] == "invalid_input"
    bad_name = await api.post(
        "/api/v1/servers", json={**body, "hostname": "under_score", "private_key": key}
    )
    assert bad_name.status_code == 400
    for answer in (bad_role, bad_key, bad_name):
        assert "PRIVATE KEY" not in answer.text


async def test_a_preflight_job_streams_its_events_to_done(
    api: httpx.AsyncClient, lab: Lab, body_log: BodyLog, web_admin: WebUser
) -> None:
    started = await api.post("/api/v1/jobs", json={"kind": "preflight", "cluster": "lab"})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "preflight" and job["requested_by"] == web_admin.username
    assert started.headers["location"] == f"/api/v1/jobs/{job['id']}"

    stream = await api.get(f"/api/v1/jobs/{job['id']}/events")
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    messages = parse_sse(stream.text)
    steps = [m for m in messages if m["event"] == "step"]
    assert messages[-1]["event"] == "done"
    done = messages[-1]["data"]
    assert done["id"] == job["id"]
    assert done["state"] == "succeeded", done
    assert [int(m["id"]) for m in steps] == [m["data"]["seq"] for m in steps]
    assert [m["data"]["seq"] for m in steps] == list(range(1, len(steps) + 1))
    checked = {m["data"]["host"] for m in steps if m["data"]["kind"] == "check"}
    assert {h.fqdn for h in lab.config.hosts()} <= checked
    assert {c["status"] for c in done["result"]["checks"]} <= {"pass", "warn"}

    # Resuming: ?after=N, or the Last-Event-ID header a reconnecting EventSource sends.
    after = await api.get(f"/api/v1/jobs/{job['id']}/events", params={"after": 3})
    assert next(m["data"]["seq"] for m in parse_sse(after.text) if m["event"] == "step") == 4
    resumed = await api.get(
        f"/api/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": str(len(steps) - 1)}
    )
    tail = parse_sse(resumed.text)
    assert [m["event"] for m in tail] == ["step", "done"]
    body_log.add(stream.text)

    missing = await api.get("/api/v1/jobs/999999/events")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert await job_starts(api, web_admin.username, job["id"]) == 1


async def test_plan_route_starts_a_plan_job(api: httpx.AsyncClient) -> None:
    started = await api.post("/api/v1/clusters/lab/plan")
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "plan"
    assert started.json()["mutating"] is False
    job = await wait_for_job(api, started.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["dry_run"] is True
    missing = await api.post("/api/v1/clusters/no-such-cluster/plan")
    assert missing.status_code == 404


async def test_an_api_apply_carries_the_reviewed_plans_digest(api: httpx.AsyncClient) -> None:
    """The API applies what was reviewed when given the plan's digest: a digest no fresh
    plan has fails the job and changes nothing; a malformed one is refused (400)."""
    await wait_idle(api)
    plan = await wait_for_job(api, (await api.post("/api/v1/clusters/lab/plan")).json()["id"])
    digest = plan["result"]["digest"]
    body = {"kind": "apply", "cluster": "lab", "params": {"plan_digest": digest}}
    same = await wait_for_job(api, (await api.post("/api/v1/jobs", json=body)).json()["id"])
    assert same["state"] == "succeeded" and "plan_changed" not in same["result"], same

    stale = {**body, "params": {"plan_digest": "0" * 64}}
    refused = await wait_for_job(api, (await api.post("/api/v1/jobs", json=stale)).json()["id"])
    assert refused["state"] == "failed" and refused["result"]["plan_changed"] is True
    assert refused["result"]["counts"].get("changed", 0) == 0, "nothing was changed"

    bad = await api.post("/api/v1/jobs", json={**body, "params": {"plan_digest": "xyz"}})
    assert bad.status_code == 400 and "plan_digest must be 64" in bad.text


async def test_one_mutating_job_per_cluster_and_cancel(
    api: httpx.AsyncClient, lab: Lab, web_admin: WebUser
) -> None:
    # A partitioned host keeps the first apply gathering facts for the connect
    # timeout (5 s in the lab's settings), so it is surely still active.
    lab.partition("idp2")
    first = await api.post("/api/v1/jobs", json={"kind": "apply", "cluster": "lab"})
    assert first.status_code == 202, first.text
    second = await api.post("/api/v1/jobs", json={"kind": "apply", "cluster": "lab"})
    assert second.status_code == 409, second.text
    assert second.json()["error"] == "job_conflict"
    assert f"job #{first.json()['id']}" in second.json()["message"]
    assert "already changing cluster 'lab'" in second.json()["message"]
    assert second.json()["hint"]

    reading = await api.post("/api/v1/jobs", json={"kind": "plan", "cluster": "lab"})
    assert reading.status_code == 202, "a read-only job may run beside a mutating one"

    cancelled = await api.post(f"/api/v1/jobs/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["cancel_requested"] is True
    job = await wait_for_job(api, first.json()["id"])
    assert job["state"] == "cancelled", job
    await wait_for_job(api, reading.json()["id"])

    trail = await audit_actions(api, web_admin.username)
    assert ("job.start", "lab", "refused") in trail
    assert ("job.cancel", f"job #{first.json()['id']}", "ok") in trail
    assert (await api.post("/api/v1/jobs/999999/cancel")).status_code == 404


async def test_job_input_is_checked(api: httpx.AsyncClient) -> None:
    unknown_kind = await api.post("/api/v1/jobs", json={"kind": "destroy", "cluster": "lab"})
    assert unknown_kind.status_code == 400
    assert "preflight" in (unknown_kind.json()["hint"] or "")
    unknown_cluster = await api.post("/api/v1/jobs", json={"kind": "plan", "cluster": "nope"})
    assert unknown_cluster.status_code == 404
    extra = await api.post(
        "/api/v1/jobs", json={"kind": "plan", "cluster": "lab", "params": {"rm": "-rf"}}
    )
    assert extra.status_code == 400
    assert "invalid params for plan: rm" in extra.json()["message"]
    # The params the README documents for lb-drain and cache-apply (a dry run here).
    for kind, params in (
        ("lb-drain", {"node": "nope.lab.test"}),
        ("cache-plan", {"provider": "NATIVE_PERSISTENCE"}),
    ):
        documented = await api.post(
            "/api/v1/jobs", json={"kind": kind, "cluster": "lab", "params": params}
        )
        assert documented.status_code == 202, documented.text
        assert documented.json()["params"] == params
        await wait_for_job(api, documented.json()["id"])
    missing = await api.post("/api/v1/jobs", json={"kind": "lb-drain", "cluster": "lab"})
    assert missing.status_code == 400 and "node" in missing.json()["message"]
    unknown_host = await api.post(
        "/api/v1/jobs",
        json={"kind": "preflight", "cluster": "lab", "params": {"hosts": ["nope.lab.test"]}},
    )
    assert unknown_host.status_code == 202
    job = await wait_for_job(api, unknown_host.json()["id"])
    assert job["state"] == "failed" and "nope.lab.test" in job["error"]


async def test_jobs_are_listed_newest_first_in_pages(api: httpx.AsyncClient) -> None:
    for _ in range(3):
        answer = await api.post("/api/v1/jobs", json={"kind": "plan", "cluster": "lab"})
        await wait_for_job(api, answer.json()["id"])
    everything = (await api.get("/api/v1/jobs", params={"limit": 1000})).json()["items"]
    ids = [j["id"] for j in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 3

    seen: list[int] = []
    before: int | None = None
    while True:
        params = {"limit": 2, **({"before_id": before} if before else {})}
        page = (await api.get("/api/v1/jobs", params=params)).json()
        seen += [j["id"] for j in page["items"]]
        before = page["next_before_id"]
        if before is None:
            break
    assert seen == ids
    one = await api.get(f"/api/v1/jobs/{ids[0]}")
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    assert (await api.get("/api/v1/jobs", params={"limit": 0})).status_code == 422
    assert (await api.get("/api/v1/jobs/0")).status_code == 422
    assert (await api.get("/api/v1/jobs/999999")).status_code == 404


async def test_every_error_has_one_shape(api: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    answers = [
        await anon.get("/api/v1/jobs"),  # 401
        await api.post("/api/v1/jobs", json={"kind": "destroy", "cluster": "lab"}),  # 400
        await api.get("/api/v1/jobs/999999"),  # 404
        await api.get("/api/v1/no-such-route"),  # 404 from the router
        await api.put("/api/v1/jobs"),  # 405
        await api.get("/api/v1/jobs", params={"limit": "many"}),  # 422
        await api.post("/api/v1/jobs", content=b"{", headers={"content-type": "application/json"}),
    ]
    assert [a.status_code for a in answers] == [401, 400, 404, 404, 405, 422, 422]
    for answer in answers:
        body = answer.json()
        assert {"error", "message", "hint"} <= set(body), body
        assert isinstance(body["error"], str) and body["message"]
        assert answer.headers["content-type"] == "application/json"
    assert answers[4].headers["allow"] == "GET, POST"
