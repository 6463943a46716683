"""The monitoring reads of the REST API: LDAP health, history series of any watched
component, alerts.

The rows are written through the monitor's store (as a watcher cycle would) on a
cluster of the test's own without servers, so no watcher touches it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.db.base import utcnow
from clustermgr.errors import NotFound
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, Measure
from clustermgr.services import clusters
from clustermgr.web.context import WebContext

pytestmark = pytest.mark.integration

CLUSTER = "monitortest"
NODE = {
    "host": "idp1",
    "server_id": 1,
    "state": "ok",
    "health": "critical",
    "reason": "",
    "check_seconds": 0.2,
    "context_csn": {"001": "20261127030349.157741Z#000000#001#000000"},
}
SNAPSHOT = {
    "nodes": [NODE, {**NODE, "host": "idp2", "server_id": 2, "state": "slapd-down"}],
    "agreements": [
        {"consumer": "idp1", "provider": "idp2", "rid": "002", "state": "unreachable", "reason": ""}
    ],
    "pairs": [
        {"host": "idp1", "peer": "idp2", "peer_server_id": 2, "caught_up": True, "lag_seconds": 0}
    ],
    "probes": [
        {"source": "idp1", "at": utcnow().isoformat(), "seconds": {"idp2": None}, "error": None}
    ],
}
DOWN = Finding(
    "node-down:idp2",
    Severity.CRITICAL,
    "slapd on idp2 does not answer: idp2: a shell script exited with status 255",
    "command: sh -c 'ldapsearch -H ldapi:/// ...'\nexit status: 255",
)


@pytest.fixture
async def recorded(web_app: FastAPI) -> AsyncIterator[str]:
    """A cluster of its own per test (samples outlive a removed cluster's name)."""
    web: WebContext = web_app.state.web
    name = f"{CLUSTER}-{secrets.token_hex(3)}"
    await clusters.create_cluster(web.manager, name)
    try:
        for ago, findings in ((120, ()), (60, (DOWN,)), (0, (DOWN,))):
            await store.record_cycle(
                web.manager,
                Cycle(
                    name,
                    "ldap",
                    utcnow() - timedelta(seconds=ago),
                    SNAPSHOT,
                    [
                        Measure("lag_seconds", "idp1", "idp2", 0.0),
                        Measure("probe_seconds", "idp2", "idp1", (50 + ago) / 1000),
                    ],
                    findings,
                ),
            )
            memory = [Measure("redis_used_memory", "idp1", None, 1000.0 + ago)]
            at = utcnow() - timedelta(seconds=ago)
            await store.record_cycle(web.manager, Cycle(name, "cache", at, {}, memory))
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(web.manager, name)


async def test_ldap_health_has_the_snapshot_and_open_alerts(
    api: httpx.AsyncClient, recorded: str
) -> None:
    answer = await api.get(f"/api/v1/clusters/{recorded}/ldap")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [n["state"] for n in body["nodes"]] == ["ok", "slapd-down"]
    assert body["agreements"][0]["state"] == "unreachable"
    assert body["probes"][0]["seconds"] == {"idp2": None}
    assert [a["key"] for a in body["open_alerts"]] == [DOWN.key]
    assert body["open_alerts"][0]["message"] == DOWN.message, "words"
    assert body["open_alerts"][0]["details"] == DOWN.details, "the command, apart"
    assert body["checked_at"] is not None


async def test_history_comes_as_series_per_metric_and_pair(
    api: httpx.AsyncClient, recorded: str
) -> None:
    answer = await api.get(f"/api/v1/clusters/{recorded}/ldap/history")
    assert answer.status_code == 200, answer.text
    series = {(s["metric"], s["host"], s["peer"]): s for s in answer.json()["series"]}
    assert set(series) == {("lag_seconds", "idp1", "idp2"), ("probe_seconds", "idp2", "idp1")}
    probe = series[("probe_seconds", "idp2", "idp1")]
    assert probe["values"] == [0.17, 0.11, 0.05] and probe["at"] == sorted(probe["at"])

    since = (utcnow() - timedelta(seconds=30)).isoformat()
    recent = await api.get(
        f"/api/v1/clusters/{recorded}/ldap/history",
        params={"since": since, "metric": "probe_seconds"},
    )
    assert [s["values"] for s in recent.json()["series"]] == [[0.05]]


async def test_any_watched_component_has_a_history_averaged_per_step(
    api: httpx.AsyncClient, recorded: str
) -> None:
    until = utcnow()
    window = {"since": (until - timedelta(minutes=10)).isoformat(), "until": until.isoformat()}
    answer = await api.get(
        f"/api/v1/clusters/{recorded}/cache/history", params={**window, "step": 600}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["component"] == "cache" and body["step"] == 600
    (memory,) = body["series"]
    assert (memory["metric"], memory["host"], memory["peer"]) == ("redis_used_memory", "idp1", None)
    assert memory["values"] == [1060.0] and memory["count"] == [3]
    assert memory["min"] == [1000.0] and memory["max"] == [1120.0]

    ldap = await api.get(
        f"/api/v1/clusters/{recorded}/ldap/history",
        params={**window, "step": 600, "metric": "probe_seconds"},
    )
    assert ldap.json()["component"] == "ldap", "the LDAP route answers as the generic one"
    (probe,) = ldap.json()["series"]
    assert probe["count"] == [3] and probe["min"] == [0.05] and probe["max"] == [0.17]


async def test_a_step_too_fine_for_the_window_is_widened(
    api: httpx.AsyncClient, recorded: str
) -> None:
    since = (utcnow() - timedelta(days=30)).isoformat()
    answer = await api.get(
        f"/api/v1/clusters/{recorded}/lb/history", params={"since": since, "step": 1}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["step"] >= 30 * 86400 // 2000 and answer.json()["series"] == []


async def test_history_refuses_what_it_cannot_answer(api: httpx.AsyncClient, recorded: str) -> None:
    base = f"/api/v1/clusters/{recorded}"
    for component in ("base", "nosuch", "alerts"):
        answer = await api.get(f"{base}/{component}/history")
        assert answer.status_code == 404, (component, answer.text)
    now = utcnow().isoformat()
    empty = await api.get(f"{base}/cache/history", params={"since": now, "until": now})
    assert empty.status_code == 400, empty.text
    too_early = await api.get(f"{base}/cache/history", params={"until": "0001-01-01T00:00:00"})
    assert too_early.status_code == 400, too_early.text
    for params in ({"step": 0}, {"metric": "no such; metric"}):
        assert (await api.get(f"{base}/cache/history", params=params)).status_code == 422
    assert (await api.get(f"{base}/ldap/history", params={"metric": "x"})).status_code == 422


async def test_alerts_open_or_all(api: httpx.AsyncClient, recorded: str) -> None:
    opened = (await api.get(f"/api/v1/clusters/{recorded}/alerts")).json()
    assert [a["key"] for a in opened["items"]] == [DOWN.key]
    assert opened["items"][0]["resolved_at"] is None
    every = await api.get(f"/api/v1/clusters/{recorded}/alerts", params={"state": "all"})
    assert every.status_code == 200 and len(every.json()["items"]) == 1


async def test_an_unknown_cluster_is_404(api: httpx.AsyncClient) -> None:
    for path in ("ldap", "ldap/history", "cache/history", "alerts"):
        answer = await api.get(f"/api/v1/clusters/no-such-cluster/{path}")
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"] == "not_found"


async def test_a_cluster_never_watched_has_an_empty_health(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/clusters/lab/ldap")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["cluster"] == "lab" and isinstance(body["open_alerts"], list)
