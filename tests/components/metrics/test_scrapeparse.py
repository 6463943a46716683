"""Reading what the scrape fetched: exporter pages (real ones, captured), twemproxy's
stats, cn=monitor; every name produced is in the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clustermgr.components.metrics import scrapeparse
from clustermgr.components.metrics.catalog import BY_NAME
from clustermgr.components.metrics.scrapeparse import HITS, MISSES, ScrapeError
from clustermgr.monitor.series.ingest import Point, Reading

FIXTURES = Path(__file__).parent / "fixtures"
NODE = (FIXTURES / "node_exporter.prom").read_text()
REDIS = (FIXTURES / "redis_exporter.prom").read_text()
NGINX = """\
# HELP nginx_connections_accepted Accepted client connections
# TYPE nginx_connections_accepted counter
nginx_connections_accepted 12
# HELP nginx_connections_active Active client connections
# TYPE nginx_connections_active gauge
nginx_connections_active 3
# TYPE nginx_connections_reading gauge
nginx_connections_reading 0
# TYPE nginx_connections_waiting gauge
nginx_connections_waiting 2
# TYPE nginx_connections_writing gauge
nginx_connections_writing 1
# TYPE nginx_http_requests_total counter
nginx_http_requests_total 417
# TYPE nginx_up gauge
nginx_up 1
"""
TWEMPROXY = {
    "service": "nutcracker",
    "source": "proxy",
    "version": "0.5.0",
    "uptime": 120,
    "timestamp": 1796577427,
    "total_connections": 9,
    "curr_connections": 4,
    "gluu": {
        "client_eof": 0,
        "server_ejects": 2,
        "forward_error": 0,
        "idp1": {"server_eof": 1, "server_err": 2, "server_timedout": 3, "requests": 50},
        "idp2": {"server_eof": 0, "server_err": 0, "server_timedout": 0, "requests": 7},
    },
}
MONITOR = """\
dn: cn=Bind,cn=Operations,cn=Monitor
monitorOpCompleted: 40

dn: cn=Search,cn=Operations,cn=Monitor
monitorOpCompleted: 300

dn: cn=Modify,cn=Operations,cn=Monitor
monitorOpCompleted: 5

dn: cn=Compare,cn=Operations,cn=Monitor
monitorOpCompleted: 9

dn: cn=Current,cn=Connections,cn=Monitor
monitorCounter: 4

dn: cn=Total,cn=Connections,cn=Monitor
monitorCounter: 1000
"""


def by_name(readings: list[Reading]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Reading]:
    return {(r.name, r.labels): r for r in readings}


def test_the_node_exporter_page_gives_every_host_series() -> None:
    found = by_name(scrapeparse.node("idp1", NODE))
    names = {name for name, _ in found}
    assert names == {s.name for s in BY_NAME.values() if s.source == "node"}
    assert all(r.host == "idp1" for r in found.values())
    load = found[("load1", ())]
    assert (load.value, load.counter) == (1.65, False)
    # 25276194816 total less 24476459008 available
    assert found[("memory_used_bytes", ())].value == 799735808
    # CPU seconds of both CPUs per mode, halved: its rate is the share of all CPUs.
    user = found[("cpu", (("mode", "user"),))]
    assert user.counter and user.value == pytest.approx((13803.2 + 15164.88) / 2)
    cores = found[("cpu_cores", ())]
    assert (cores.value, cores.counter) == (2.0, False)
    assert found[("disk_read_bytes", (("device", "vda"),))].counter
    assert found[("network_receive_bytes", (("device", "eth0"),))].value == 816380691
    assert not any(labels == (("device", "lo"),) for _, labels in found)
    assert found[("uptime_seconds", ())].value == pytest.approx(1796577427.92 - 1796544346, abs=0.1)
    assert found[("disk_used_bytes", (("mount", "/"),))].value > 0


def test_an_overlay_root_is_a_disk_a_tmpfs_is_not() -> None:
    page = "node_load1 0.5\n" + "".join(
        f'node_filesystem_{what}_bytes{{device="{device}",fstype="{fstype}",mountpoint="{mount}"}}'
        f" {value}\n"
        for device, fstype, mount in (("overlay", "overlay", "/"), ("tmpfs", "tmpfs", "/run"))
        for what, value in (("size", 1000.0), ("free", 400.0))
    )
    found = by_name(scrapeparse.node("idp1", page))
    assert {key for key in found if key[0].startswith("disk_")} == {
        ("disk_used_bytes", (("mount", "/"),)),
        ("disk_size_bytes", (("mount", "/"),)),
    }
    assert found[("disk_used_bytes", (("mount", "/"),))].value == 600


def test_the_redis_exporter_page_gives_lookups_to_make_the_hit_ratio() -> None:
    found = by_name(scrapeparse.redis("idp1", REDIS))
    assert found[("redis_commands", ())].counter
    assert found[("redis_clients", ())].value == 1
    assert found[("redis_memory_max_bytes", ())].value == 0
    assert found[(HITS, ())].counter and found[(MISSES, ())].counter


def test_the_hit_ratio_is_made_of_the_lookups_rates_and_they_are_not_kept() -> None:
    points = [
        Point("idp1", HITS, (), 3.0),
        Point("idp1", MISSES, (), 1.0),
        Point("idp2", HITS, (), 0.0),
        Point("idp2", MISSES, (), 0.0),
        Point("idp1", "redis_clients", (), 2.0),
    ]
    derived = scrapeparse.derive(points)
    assert Point("idp1", "redis_hit_ratio", (), 0.75) in derived
    assert {p.name for p in derived} == {"redis_hit_ratio", "redis_clients"}
    # No lookups: no ratio (never a zero nobody measured).
    assert not [p for p in derived if p.host == "idp2"]


def test_an_exporter_that_cannot_reach_its_daemon_is_an_error_not_zeros() -> None:
    with pytest.raises(ScrapeError, match="cannot reach Redis"):
        scrapeparse.redis("idp1", REDIS.replace("redis_up 1", "redis_up 0"))
    with pytest.raises(ScrapeError, match="cannot reach NGINX"):
        scrapeparse.nginx("proxy", NGINX.replace("nginx_up 1", "nginx_up 0"))


def test_nginx_requests_and_connections_by_state() -> None:
    found = by_name(scrapeparse.nginx("proxy", NGINX))
    assert found[("nginx_requests", ())] == Reading("proxy", "nginx_requests", (), 417, True)
    states = {dict(labels)["state"]: r.value for (name, labels), r in found.items() if labels}
    assert states == {"active": 3, "reading": 0, "writing": 1, "waiting": 2}


def test_twemproxy_stats_per_server_and_pool() -> None:
    found = by_name(scrapeparse.twemproxy("proxy", json.dumps(TWEMPROXY)))
    assert found[("twemproxy_requests", (("server", "idp1"),))].value == 50
    assert found[("twemproxy_errors", (("server", "idp1"),))].value == 6
    assert found[("twemproxy_ejections", (("pool", "gluu"),))].value == 2
    assert all(r.counter for r in found.values())
    with pytest.raises(ScrapeError):
        scrapeparse.twemproxy("proxy", "not json")


def test_cn_monitor_gives_operations_by_type_and_current_connections() -> None:
    found = by_name(scrapeparse.ldap("idp1", MONITOR))
    ops = {dict(labels)["op"]: r.value for (name, labels), r in found.items() if labels}
    assert ops == {"bind": 40, "search": 300, "modify": 5}
    assert found[("ldap_connections", ())].value == 4
    with pytest.raises(ScrapeError, match="cn=monitor"):
        scrapeparse.ldap("idp1", "")


@pytest.mark.parametrize("text", ["this is not { a page", "metric_without_value\n"])
def test_a_page_in_another_format_is_an_error(text: str) -> None:
    with pytest.raises(ScrapeError):
        scrapeparse.node("idp1", text)


def test_every_series_produced_is_in_the_catalog() -> None:
    readings = [
        *scrapeparse.node("h", NODE),
        *scrapeparse.nginx("h", NGINX),
        *scrapeparse.twemproxy("h", json.dumps(TWEMPROXY)),
        *scrapeparse.ldap("h", MONITOR),
    ]
    points = [Point(r.host, r.name, r.labels, r.value) for r in readings]
    points += scrapeparse.derive([Point("h", HITS, (), 1), Point("h", MISSES, (), 1)])
    points += [Point(r.host, r.name, r.labels, r.value) for r in scrapeparse.redis("h", REDIS)]
    for p in scrapeparse.derive(points):
        spec = BY_NAME[p.name]
        assert {k for k, _ in p.labels} == set(spec.labels), p
