"""An LDAP plan's job page shows the cn=config entries it would change, secrets masked.

The session lab's identity nodes run slapd without replication: planning it
(from the replication page, as a user does) finds every step to change.
"""

from __future__ import annotations

import html as html_lib
import re

import httpx
import pytest

from clustermgr.components.ldap.apply import REPLICATOR_SECRET
from clustermgr.core.manager import Manager
from clustermgr.redact import MASK
from labfixture import Lab
from webfixture import wait_for_job, wait_idle

pytestmark = pytest.mark.integration


async def test_ldap_plan_page_shows_entry_diffs(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, app_manager: Manager, lab: Lab
) -> None:
    await wait_idle(api)
    page = (await gui.get("/clusters/lab/ldap")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the replication page has a form"
    started = await gui.post("/clusters/lab/ldap/plan", data={"csrf_token": token.group(1)})
    assert started.status_code == 303, started.text
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    job = await wait_for_job(api, job_id)
    assert job["kind"] == "ldap-plan" and job["state"] == "succeeded", job

    idp1 = lab.host("idp1").fqdn
    steps = {r["title"]: r for r in job["result"]["hosts"][idp1]}
    ids = steps["set the server IDs"]
    assert ids["outcome"] == "would change"
    (entry,) = [d for d in ids["diffs"] if d["path"] == "ldap:///cn=config"]
    assert any(x.startswith("+olcServerID: ") for x in entry["diff"].splitlines()), entry
    agreements = steps["set the replication agreements"]["diffs"]
    (syncrepl,) = [d["diff"] for d in agreements if d["path"].startswith("ldap:///olcDatabase=")]
    assert f"credentials={MASK}" in syncrepl and "+olcMultiProvider: TRUE" in syncrepl

    html = html_lib.unescape((await gui.get(f"/jobs/{job_id}")).text)
    assert "Changes to <code>ldap:///cn=config</code>" in html
    assert '<span class="diff-add">+olcServerID: ' in html
    assert f"credentials={MASK}" in html
    async with app_manager.store() as store:
        cluster = await store.cluster("lab")
        password = await store.find_cluster_secret(cluster, REPLICATOR_SECRET)
    assert password is not None
    assert password.reveal() not in html and password.reveal() not in str(job)
