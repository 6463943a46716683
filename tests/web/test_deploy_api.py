"""The deploy's stages through the API, on an app of its own: a cluster without servers
lists every stage not started and "Add servers" as the next action; an unknown cluster is
404; no token is 401.  Deploys themselves run in ``tests/jobs/test_deploy_lab.py`` and,
clicked through the GUI, in ``test_newcomer_lab.py``, each on servers of its own.
"""

from __future__ import annotations

from clustermgr.components import registry
from clustermgr.components.contract import deploy_stages
from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from webfixture import FreshWeb, client


async def test_a_new_cluster_starts_with_adding_servers(fresh_web: FreshWeb) -> None:
    manager = await Manager.open(fresh_web.settings)
    try:
        await clusters.create_cluster(manager, "c1")
    finally:
        await manager.close()
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        board = (await api.get("/api/v1/clusters/c1/stages")).json()
        changes = [s.name for s in deploy_stages(registry.COMPONENTS)]
        assert [s["key"] for s in board["stages"]] == ["servers", "preflight", *changes]
        assert {s["state"] for s in board["stages"]} == {"not started"}
        assert board["next"]["label"] == "Add servers"
        assert board["next"]["role"] == "admin"
        missing = await api.get("/api/v1/clusters/nope/stages")
        assert missing.status_code == 404
    async with client(app=fresh_web.app) as anon:
        assert (await anon.get("/api/v1/clusters/c1/stages")).status_code == 401
