"""REST: start an LDAP data comparison; refuse a re-initialisation that cannot be right."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from labfixture import Lab
from webfixture import wait_for_job, wait_idle

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def idle_afterwards(api: httpx.AsyncClient) -> AsyncIterator[None]:
    yield
    await wait_idle(api)


async def test_compare_route_starts_a_read_only_job(api: httpx.AsyncClient, lab: Lab) -> None:
    started = await api.post("/api/v1/clusters/lab/ldap/compare")
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "ldap-compare" and started.json()["mutating"] is False
    job = await wait_for_job(api, started.json()["id"])
    result = job["result"]
    assert result["verdict"] in ("identical", "different"), job
    assert job["state"] == ("succeeded" if result["identical"] else "failed"), job
    identity = {h.fqdn for h in lab.config.hosts() if h.name.startswith("idp")}
    assert {n["host"] for n in result["nodes"]} == identity
    assert "SSHA" not in started.text + str(job)
    missing = await api.post("/api/v1/clusters/no-such-cluster/ldap/compare")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"node": "idp1", "source": "idp2"}, "discards every change"),
        ({"node": "SAME", "source": "SAME", "confirm": True}, "from itself"),
        ({"node": "nosuch.lab.test", "source": "IDP1", "confirm": True}, "not an identity"),
    ],
)
async def test_reinit_route_refuses_before_starting_a_job(
    api: httpx.AsyncClient, lab: Lab, body: dict[str, object], words: str
) -> None:
    idp1, idp2 = lab.host("idp1").fqdn, lab.host("idp2").fqdn
    names = {"idp1": idp1, "idp2": idp2, "SAME": idp1, "IDP1": idp1}
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = (await api.get("/api/v1/jobs", params={"cluster": "lab"})).json()["items"]
    answer = await api.post("/api/v1/clusters/lab/ldap/reinit", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["error"] == "invalid_input"
    assert words in error["message"] or words in (error["hint"] or ""), error
    after = (await api.get("/api/v1/jobs", params={"cluster": "lab"})).json()["items"]
    assert [j["id"] for j in after] == [j["id"] for j in before], "no job was started"
