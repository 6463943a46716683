"""The guided deploy through the API, against a real ``clustermgr serve`` on a copy of
the lab's data (the watcher off): a deploy, then a second one that changes nothing, and
the stages route.  The browser walks the guided deploy in ``test_newcomer_lab.py``, on a
manager and servers of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from labfixture import Lab
from webfixture import ManagerProcess, WebUser, client, copy_data_dir, free_port, wait_for_job

pytestmark = pytest.mark.integration

STAGES = ["base", "ldap", "cache", "lb"]


@pytest.fixture(scope="module")
def server(lab: Lab, web_admin: WebUser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("deploy-live")
    settings = copy_data_dir(lab.settings, folder / "data")
    process = ManagerProcess(
        settings, free_port(), folder / "serve.log", env={"CLUSTERMGR_WATCH_ENABLED": "false"}
    )
    process.start()
    try:
        yield process.url
    finally:
        process.stop()


async def test_a_second_deploy_changes_nothing(server: str, web_admin: WebUser, lab: Lab) -> None:
    async with client(server, token=web_admin.token) as api:
        check = {"kind": "preflight", "cluster": lab.config.cluster, "params": {}}
        checked = await wait_for_job(api, (await api.post("/api/v1/jobs", json=check)).json()["id"])
        assert checked["state"] == "succeeded", checked
        body = {"kind": "deploy", "cluster": lab.config.cluster, "params": {}}
        for _ in range(2):  # the first makes whatever earlier tests left differ right
            started = await api.post("/api/v1/jobs", json=body)
            assert started.status_code == 202, started.text
            job = await wait_for_job(api, started.json()["id"])
        assert job["state"] == "succeeded", job["error"]
        assert job["result"]["counts"]["changed"] == 0
        assert [s["status"] for s in job["result"]["stages"]] == ["applied"] * len(STAGES)
        board = (await api.get(f"/api/v1/clusters/{lab.config.cluster}/stages")).json()
        assert board["next"] is None
        assert [s["state"] for s in board["stages"]] == ["done", "done", *["applied"] * 4]
        missing = await api.get("/api/v1/clusters/nope/stages")
        assert missing.status_code == 404


async def test_stages_of_the_api_need_a_token(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as anon:
        assert (await anon.get("/api/v1/clusters/lab/stages")).status_code == 401
