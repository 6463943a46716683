"""A manager killed while a job runs: the job is `interrupted`, its finished steps kept.

The manager is a real ``clustermgr serve`` on a copy of the lab's data dir (so
killing it cannot disturb the jobs of the shared app or the live server).
One host (idp2) is made slow with a ``dpkg-query`` that sleeps before
answering, then partitioned while the apply waits on it: the other hosts have
finished steps, the job is still running, and the manager is killed (SIGKILL).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from labfixture import Lab
from polling import eventually
from webfixture import (
    BodyLog,
    ManagerProcess,
    WebUser,
    client,
    copy_data_dir,
    free_port,
    wait_for_job,
)

pytestmark = pytest.mark.integration

SLOW_HOST = "idp2"
SHIM = "/usr/local/bin/dpkg-query"
#: Seconds the shim waits before each dpkg-query: the check of a step runs it 5 times.
SHIM_DELAY = 2
INSTALL_SHIM = f"""
mkdir -p /usr/local/bin
printf '#!/bin/sh\\nsleep {SHIM_DELAY}\\nexec /usr/bin/dpkg-query "$@"\\n' > {SHIM}
chmod 755 {SHIM}
command -v dpkg-query
"""


@pytest.fixture
async def slow_host(lab: Lab) -> AsyncIterator[str]:
    """idp2 answers dpkg-query slowly; healed and back to normal afterwards."""
    where = await lab.sh(SLOW_HOST, INSTALL_SHIM)
    assert where.strip() == SHIM, "the shim is not first on the PATH of SSH commands"
    try:
        yield lab.host(SLOW_HOST).fqdn
    finally:
        lab.heal(SLOW_HOST)
        await lab.sh(SLOW_HOST, f"rm -f {SHIM}")


@pytest.fixture
def manager(lab: Lab, web_admin: WebUser, tmp_path: Path) -> Iterator[ManagerProcess]:
    settings = copy_data_dir(lab.settings, tmp_path / "manager")
    server = ManagerProcess(settings, free_port(), tmp_path / "serve.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def events(http: httpx.AsyncClient, job_id: int) -> list[dict[str, Any]]:
    """Every stored event of a finished job, through the API's event stream."""
    answer = await http.get(f"/api/v1/jobs/{job_id}/events")
    assert answer.status_code == 200
    found = []
    for block in answer.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "step":
            found.append(json.loads(lines["data"]))
    return found


async def stored_events(manager: ManagerProcess, job_id: int) -> list[dict[str, Any]]:
    """The events written so far, read from the database (the job is still running)."""
    opened = await Manager.open(manager.settings)
    try:
        return [e.as_dict() for e in await store.events_after(opened, job_id)]
    finally:
        await opened.close()


def finished_steps(found: list[dict[str, Any]], *, not_on: str) -> list[dict[str, Any]]:
    return [e for e in found if e["kind"] == "step_finished" and e["host"] != not_on]


async def test_a_killed_manager_leaves_the_job_interrupted_and_apply_resumes(
    lab: Lab, web_admin: WebUser, manager: ManagerProcess, slow_host: str, body_log: BodyLog
) -> None:
    async with client(manager.url, token=web_admin.token, log=body_log) as http:
        started = await http.post("/api/v1/jobs", json={"kind": "apply", "cluster": "lab"})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]

        async def fast_steps_done() -> list[dict[str, Any]]:
            return finished_steps(await stored_events(manager, job_id), not_on=slow_host)

        await eventually(
            fast_steps_done, timeout=60, interval=0.2, what="no step finished on a fast host"
        )
        lab.partition(SLOW_HOST)
        running = (await http.get(f"/api/v1/jobs/{job_id}")).json()
        assert running["state"] == "running", "the job should still wait on the slow host"
        done_before = finished_steps(await stored_events(manager, job_id), not_on=slow_host)

        manager.kill()
        manager.start()

        job = (await http.get(f"/api/v1/jobs/{job_id}")).json()
        assert job["state"] == "interrupted", job
        assert "manager stopped" in job["error"]
        kept = await events(http, job_id)
        assert kept[-1]["kind"] == "interrupted"
        kept_steps = {(e["host"], e["step"]) for e in kept if e["kind"] == "step_finished"}
        assert {(e["host"], e["step"]) for e in done_before} <= kept_steps

        lab.heal(SLOW_HOST)
        await lab.sh(SLOW_HOST, f"rm -f {SHIM}")
        again = await http.post("/api/v1/jobs", json={"kind": "apply", "cluster": "lab"})
        assert again.status_code == 202, again.text
        second = await wait_for_job(http, again.json()["id"])
        assert second["state"] == "succeeded", second
        outcomes = {
            (host, r["step"]): r["outcome"]
            for host, results in second["result"]["hosts"].items()
            for r in results
        }
        for event in done_before:
            assert outcomes[(event["host"], event["step"])] == "unchanged", event
        assert any(host == slow_host for host, _ in outcomes), "the slow host was applied too"
