"""The monitor's reads for the dashboard and the alerts page, on SQLite and PostgreSQL:
alerts filtered by host and severity, open alerts counted per component, the last
check of each component, and the filter a person types, validated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.monitor import read, store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle
from clustermgr.monitor.views import AlertView
from replicationdata import IDP1 as REPL_IDP1
from replicationdata import IDP2 as REPL_IDP2
from replicationdata import add_cluster

IDP1, IDP2, IDP10 = "idp1.x.test", "idp2.x.test", "idp10.x.test"
NODE_DOWN = Finding(f"node-down:{IDP1}", Severity.CRITICAL, f"{IDP1}: slapd does not answer")
PAIR = Finding(f"agreement:{IDP2}<-{IDP1}", Severity.WARNING, f"{IDP2} lags behind {IDP1}")
OTHER = Finding(f"node-down:{IDP10}", Severity.CRITICAL, f"{IDP10}: slapd does not answer")
REPAIR = Finding("repair:stunnel4:idp1", Severity.WARNING, f"restarted stunnel4 on {IDP1}")
PATH = Finding("path", Severity.CRITICAL, "path check failed")


async def record(
    manager: Manager, component: str, *findings: Finding, cluster: str = "c1", ago: float = 0
) -> None:
    at = utcnow() - timedelta(seconds=ago)
    await store.record_cycle(manager, Cycle(cluster, component, at, {}, findings=findings))


async def test_alerts_of_one_host_match_its_name_or_first_label_in_the_key(
    manager: Manager,
) -> None:
    await record(manager, "ldap", NODE_DOWN, PAIR, OTHER)
    await record(manager, "cache", REPAIR, PATH)

    def keys(found: list[AlertView]) -> set[str]:
        return {a.key for a in found}

    about1 = await store.alerts(manager, "c1", open_only=True, host=IDP1)
    # idp10 is not idp1; the pair names idp1 as its peer; the repair by its first label.
    assert keys(about1) == {NODE_DOWN.key, PAIR.key, REPAIR.key}
    about2 = await store.alerts(manager, "c1", open_only=True, host=IDP2)
    assert keys(about2) == {PAIR.key}
    critical1 = await store.alerts(manager, "c1", open_only=True, host=IDP1, severity="critical")
    assert keys(critical1) == {NODE_DOWN.key}
    cache1 = await store.alerts(manager, "c1", open_only=False, host=IDP1, component="cache")
    assert keys(cache1) == {REPAIR.key}
    assert keys(await store.alerts(manager, "c1", open_only=True, severity="warning")) == {
        PAIR.key,
        REPAIR.key,
    }
    # A LIKE wildcard in a name is a character, not a pattern.
    assert await store.alerts(manager, "c1", open_only=True, host="%") == []
    assert await store.alerts(manager, "c1", open_only=True, host="idp_.x.test") == []


async def test_open_alerts_are_counted_per_cluster_component_and_severity(
    manager: Manager,
) -> None:
    assert await store.open_counts(manager) == []
    assert await store.open_count(manager, severity="critical") == 0
    await record(manager, "ldap", NODE_DOWN, PAIR, OTHER, ago=10)
    await record(manager, "cache", PATH, cluster="c2", ago=10)
    await record(manager, "ldap", NODE_DOWN, PAIR)  # OTHER resolves: it no longer counts

    counts = {
        (c.cluster, c.component, c.severity): c.count for c in await store.open_counts(manager)
    }
    assert counts == {
        ("c1", "ldap", "critical"): 1,
        ("c1", "ldap", "warning"): 1,
        ("c2", "cache", "critical"): 1,
    }
    assert await store.open_count(manager, severity="critical") == 2
    assert await store.open_count(manager, severity="warning") == 1

    overview = await read.overview(manager)
    assert overview.open_alerts("c1", "ldap") == {"critical": 1, "warning": 1}
    assert overview.open_alerts("c1", "cache") == {}
    checked = overview.checked_at("c1", "ldap")
    assert checked is not None and utcnow() - checked < timedelta(seconds=5)
    assert overview.checked_at("c2", "cache") is not None
    assert overview.checked_at("c2", "ldap") is None
    assert await read.open_critical(manager) == 2


async def test_a_filter_takes_the_clusters_values_and_refuses_the_others(
    manager: Manager,
) -> None:
    cluster = await get_cluster(manager, await add_cluster(manager))
    watched = ("ldap", "cache")

    assert read.alert_filter(cluster, watched) == read.AlertFilter()
    assert read.alert_filter(cluster, watched, component=" ", host="", severity="") == (
        read.AlertFilter()
    )
    chosen = read.alert_filter(
        cluster, watched, component="cache", host=REPL_IDP2, severity="warning"
    )
    assert chosen == read.AlertFilter("cache", REPL_IDP2, Severity.WARNING)

    for field, value, hint in (
        ("component", "nosuch", "one of: cache, ldap"),
        ("host", "idp9.repl.test", f"one of: {REPL_IDP1}, {REPL_IDP2}"),
        ("severity", "fatal", "one of: critical, warning"),
    ):
        with pytest.raises(InvalidInput) as refused:
            read.alert_filter(cluster, watched, **{field: value})
        assert value in refused.value.message and refused.value.hint == hint
