"""``clustermgr remote``: the real command driving a real ``clustermgr serve`` over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cli_runner import assert_clean
from labfixture import Lab
from webfixture import WebUser, wait_idle

pytestmark = pytest.mark.integration


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


async def remote(*args: str, url: str | None, token: str | None) -> Ran:
    """``python -m clustermgr remote ARGS`` with the URL and token in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERMGR_")}
    env["COLUMNS"] = "200"
    if url is not None:
        env["CLUSTERMGR_URL"] = url
    if token is not None:
        env["CLUSTERMGR_TOKEN"] = token
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "clustermgr", "remote", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert_clean(args, proc.stdout, proc.stderr)
    return Ran(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
async def cli(live_server: str, web_admin: WebUser) -> Any:
    async def run(*args: str) -> Ran:
        return await remote(*args, url=live_server, token=web_admin.token)

    return run


@pytest.fixture(autouse=True)
async def idle_afterwards(live_api: httpx.AsyncClient, lab: Lab) -> AsyncIterator[None]:
    yield
    for host in lab.config.hosts():
        lab.heal(host.name)
    await wait_idle(live_api)


async def test_lists_servers(cli: Any, lab: Lab) -> None:
    data = await cli("servers", "--cluster", "lab", "--json")
    assert data.code == 0, data.stderr
    assert {s["hostname"] for s in data.json()} == {h.fqdn for h in lab.config.hosts()}
    text = await cli("servers")
    assert text.code == 0 and text.stderr == ""
    head, *rows = text.stdout.splitlines()
    assert head.split() == ["CLUSTER", "SERVER", "ROLE", "STATE", "SSH"]
    assert {r.split()[1] for r in rows} == {h.fqdn for h in lab.config.hosts()}
    assert {r.split()[3] for r in rows} == {"member"}


async def test_runs_a_job_and_follows_it(cli: Any, lab: Lab) -> None:
    ran = await cli("run", "preflight", "lab", "--wait")
    assert ran.code == 0, ran.stderr
    assert "started job #" in ran.stderr
    assert lab.host("proxy1").fqdn in ran.stderr
    assert "pass: ssh login" in ran.stderr
    head, row = ran.stdout.splitlines()  # the progress above, the finished job here
    assert head.split() == ["JOB", "KIND", "CLUSTER", "STATE", "BY", "CREATED"]
    assert row.split()[1:4] == ["preflight", "lab", "succeeded"]

    planned = await cli("run", "plan", "lab", "--wait", "--json")
    assert planned.code == 0, planned.stderr
    job = planned.json()
    assert job["kind"] == "plan" and job["state"] == "succeeded"

    listed = await cli("jobs", "--json", "--limit", "5")
    assert listed.code == 0
    assert job["id"] in [j["id"] for j in listed.json()]
    cancel = await cli("cancel", str(job["id"]))
    assert cancel.code == 0
    assert cancel.stdout == f"job #{job['id']} is succeeded\n"


async def test_started_without_wait_prints_the_job(cli: Any, live_api: httpx.AsyncClient) -> None:
    ran = await cli("run", "preflight", "lab", "--host", "idp1.lab.test", "--json")
    assert ran.code == 0, ran.stderr
    job = ran.json()
    assert job["state"] in ("queued", "running", "succeeded")
    assert job["params"] == {"hosts": ["idp1.lab.test"]}


async def test_a_failed_job_exits_non_zero(cli: Any, lab: Lab) -> None:
    lab.partition("idp2")
    ran = await cli("run", "apply", "lab", "--wait")
    assert ran.code == 1, ran.stderr
    assert "unreachable" in ran.stderr
    assert "failed" in ran.stdout


async def test_errors_have_one_shape(cli: Any, live_server: str) -> None:
    unknown = await cli("run", "plan", "no-such-cluster")
    assert unknown.code == 1
    assert "no cluster named 'no-such-cluster'" in unknown.stderr
    as_json = await cli("run", "plan", "no-such-cluster", "--json")
    assert as_json.code == 1 and as_json.json()["error"] == "not_found"
    missing = await cli("cancel", "999999")
    assert missing.code == 1 and "no job #999999" in missing.stderr

    bad_token = await remote("jobs", url=live_server, token="cm_wrong")
    assert bad_token.code == 1
    assert "a valid API token is required" in bad_token.stderr
    no_url = await remote("jobs", url=None, token=None)
    assert no_url.code == 1 and "CLUSTERMGR_URL" in no_url.stderr
    nobody = await remote("jobs", url="http://127.0.0.1:9", token="cm_x")
    assert nobody.code == 1 and "cannot reach the manager" in nobody.stderr
