"""``GET /metrics``: the clusters' health for a Prometheus, behind an API token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, Measure, record_cycle
from webfixture import FreshWeb, client

pytestmark = pytest.mark.integration

CACHE = {
    "proxy_hops": [{"host": "proxy", "what": "twemproxy", "up": True, "port": 8888}],
    "nodes": [
        {"host": "idp1", "hops": [{"host": "idp1", "what": "redis", "up": False}]},
    ],
}
LB = {"backends": [{"host": "idp1", "state": "up", "healthy": True, "seconds": 0.1}]}


async def seed(manager: Manager) -> None:
    now = utcnow()
    await record_cycle(
        manager,
        Cycle(
            "prod",
            "ldap",
            now,
            {},
            measures=[
                Measure("lag_seconds", "idp1", "idp2", 2.5),
                Measure("probe_seconds", "idp1", "idp2", 0.04),
            ],
            findings=[Finding("node-down:idp2", Severity.CRITICAL, "idp2 is down")],
        ),
    )
    # A stale sample (the watcher stopped long ago) is left out.
    await record_cycle(
        manager,
        Cycle("old", "ldap", now - timedelta(hours=2), {}, [Measure("lag_seconds", "a", "b", 9)]),
    )
    await record_cycle(manager, Cycle("prod", "cache", now, CACHE))
    await record_cycle(manager, Cycle("prod", "lb", now, LB))


async def test_metrics_needs_a_token_and_shows_alerts_samples_and_states(
    fresh_web: FreshWeb,
) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await seed(manager)
    async with client(app=fresh_web.app) as anon:
        refused = await anon.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        bad = await anon.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and "clustermgr_" not in bad.text
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        got = await api.get("/metrics")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/plain")
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(got.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float | None:
        return values.get((name, tuple(sorted(labels.items()))))

    assert (
        value("clustermgr_alerts_open", cluster="prod", component="ldap", severity="critical") == 1
    )
    assert (
        value("clustermgr_alerts_open", cluster="prod", component="ldap", severity="warning") == 0
    )
    assert value("clustermgr_alerts_open", cluster="prod", component="lb", severity="critical") == 0
    assert value("clustermgr_ldap_lag_seconds", cluster="prod", host="idp1", peer="idp2") == 2.5
    assert value("clustermgr_ldap_probe_seconds", cluster="prod", host="idp1", peer="idp2") == 0.04
    assert value("clustermgr_ldap_lag_seconds", cluster="old", host="a", peer="b") is None
    assert value("clustermgr_cache_hop_up", cluster="prod", host="proxy", hop="twemproxy") == 1
    assert value("clustermgr_cache_hop_up", cluster="prod", host="idp1", hop="redis") == 0
    assert value("clustermgr_lb_backend_healthy", cluster="prod", host="idp1") == 1
    assert value("clustermgr_lb_backend_state", cluster="prod", host="idp1", state="up") == 1
    checked = value("clustermgr_check_timestamp_seconds", cluster="prod", component="cache")
    assert checked is not None and checked > utcnow().timestamp() - 60
