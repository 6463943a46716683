"""Threshold rules after each scrape (pure): a breach opens once it has lasted the rule's
duration, resolves when back under, and a gap neither opens nor resolves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from clustermgr.components.metrics.evaluate import (
    Evaluation,
    evaluate,
    key_of,
    rule_and_host,
)
from clustermgr.components.metrics.measures import Values, host_values
from clustermgr.components.metrics.rules import (
    Rule,
    RuleChange,
    default_rules,
    parse_change,
    parse_rule,
)
from clustermgr.errors import InvalidInput
from clustermgr.monitor.alerts import Severity, transition
from clustermgr.monitor.series.ingest import Point
from clustermgr.notify.message import Notice, headline
from clustermgr.topology import Role

CPU = Rule(id="cpu-busy", series="cpu_busy_percent", threshold=90, duration=300)
ROLES = {"idp1": Role.IDENTITY, "proxy": Role.PROXY}


def cpu(busy: float) -> Values:
    return {"cpu_busy_percent": {(): busy}}


class Run:
    """Scrapes one after another, with the alert store's transitions applied."""

    def __init__(self, rules: Sequence[Rule] = (CPU,)) -> None:
        self.rules = rules
        self.starts: dict[str, float] = {}
        self.open: set[str] = set()

    def scrape(self, at: float, values: dict[str, Values]) -> Evaluation:
        result = evaluate(self.rules, ROLES, values, self.open, self.starts, at)
        self.starts = result.starts
        change = transition(result.findings, self.open, result.unknown)
        self.open = (self.open | {f.key for f in change.open}) - set(change.resolve)
        return result


def test_a_breach_shorter_than_the_duration_opens_nothing() -> None:
    run = Run()
    for at in range(0, 300, 10):
        assert run.scrape(at, {"idp1": cpu(95)}).findings == ()
    run.scrape(300, {"idp1": cpu(50)})
    assert run.open == set() and run.starts == {}


def test_a_breach_that_lasts_opens_once_and_resolves_when_back_under() -> None:
    run = Run()
    run.scrape(0, {"idp1": cpu(95)})
    assert run.scrape(290, {"idp1": cpu(99)}).findings == ()
    opened = run.scrape(300, {"idp1": cpu(97)}).findings
    assert [f.key for f in opened] == ["cpu-busy:idp1"]
    assert opened[0].severity is Severity.WARNING
    assert "97 %" in opened[0].message and "> 90 %" in opened[0].message
    assert run.open == {"cpu-busy:idp1"}
    # Still breached: the same alert goes on (one key, refreshed).
    assert [f.key for f in run.scrape(310, {"idp1": cpu(96)}).findings] == ["cpu-busy:idp1"]
    assert run.open == {"cpu-busy:idp1"}
    run.scrape(320, {"idp1": cpu(89)})
    assert run.open == set() and run.starts == {}


def test_a_dip_under_the_threshold_starts_the_duration_again() -> None:
    run = Run()
    run.scrape(0, {"idp1": cpu(95)})
    run.scrape(200, {"idp1": cpu(50)})
    assert run.scrape(400, {"idp1": cpu(95)}).findings == ()
    assert run.starts == {"cpu-busy:idp1": 400}


def test_a_gap_neither_opens_nor_resolves() -> None:
    run = Run()
    run.scrape(0, {"idp1": cpu(95)})
    run.scrape(300, {"idp1": cpu(95)})
    assert run.open == {"cpu-busy:idp1"}
    gap = run.scrape(310, {})  # idp1 could not be reached
    assert gap.findings == () and gap.unknown == ("cpu-busy:idp1",)
    assert run.open == {"cpu-busy:idp1"} and run.starts == {"cpu-busy:idp1": 0}
    # The same when the host answered but its series was not read.
    assert run.scrape(320, {"idp1": {"load1": {(): 0.1}}}).unknown == ("cpu-busy:idp1",)
    run.scrape(330, {"idp1": cpu(10)})
    assert run.open == set()


def test_a_gap_before_the_duration_opens_nothing_and_keeps_the_start() -> None:
    run = Run()
    run.scrape(0, {"idp1": cpu(95)})
    assert run.scrape(310, {}).findings == ()
    assert run.open == set() and run.starts == {"cpu-busy:idp1": 0}
    assert [f.key for f in run.scrape(320, {"idp1": cpu(95)}).findings] == ["cpu-busy:idp1"]


def test_an_open_alert_stays_open_after_a_restart_forgot_the_start() -> None:
    result = evaluate([CPU], ROLES, {"idp1": cpu(95)}, {"cpu-busy:idp1"}, {}, 1000)
    assert [f.key for f in result.findings] == ["cpu-busy:idp1"]


@pytest.mark.parametrize(
    "rules",
    [
        [CPU.model_copy(update={"enabled": False})],  # turned off
        [],  # gone
    ],
)
def test_the_alert_of_a_rule_turned_off_or_gone_resolves(rules: list[Rule]) -> None:
    result = evaluate(rules, ROLES, {}, {"cpu-busy:idp1"}, {"cpu-busy:idp1": 0}, 10)
    assert result == Evaluation()
    assert transition(result.findings, {"cpu-busy:idp1"}, result.unknown).resolve == (
        "cpu-busy:idp1",
    )


def test_the_alert_of_a_server_no_longer_in_the_cluster_resolves() -> None:
    result = evaluate([CPU], ROLES, {}, {"cpu-busy:gone"}, {}, 10)
    assert result.unknown == ()


def test_other_alerts_of_the_component_are_left_alone() -> None:
    result = evaluate([CPU], ROLES, {}, {"host-unreachable:idp1"}, {}, 10)
    assert result == Evaluation()


def test_a_rule_watches_its_roles_and_its_labels() -> None:
    disk = Rule(id="disk", series="disk_used_percent", threshold=85, labels={"mount": "/var"})
    redis = Rule(id="redis", series="redis_memory_percent", threshold=90)
    used: Values = {"disk_used_percent": {(("mount", "/"),): 99.0, (("mount", "/var"),): 90.0}}
    values: dict[str, Values] = {
        "idp1": {**used, "redis_memory_percent": {(): 95.0}},
        "proxy": {**used, "redis_memory_percent": {(): 95.0}},
    }
    found = evaluate([disk, redis], ROLES, values, set(), {}, 0).findings
    assert sorted(f.key for f in found) == ["disk:/var:idp1", "disk:/var:proxy", "redis:idp1"]


def test_a_key_fits_the_alert_store_and_stays_the_same() -> None:
    host = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".example.org"
    labels = (("mount", "/" + "d" * 150),)
    key = key_of("disk-used", host, labels)
    assert len(key) == 255 and key == key_of("disk-used", host, labels)
    assert key.startswith("disk-used:/d") and key.endswith(f":{host}")
    assert key != key_of("disk-full", host, labels)
    assert key_of("disk-used", "idp1", (("mount", "/var"),)) == "disk-used:/var:idp1"


def test_below_compares_the_other_way() -> None:
    rule = Rule(id="hits", series="redis_hit_ratio", comparison="<", threshold=0.5)
    low = evaluate([rule], ROLES, {"idp1": {"redis_hit_ratio": {(): 0.2}}}, set(), {}, 0)
    high = evaluate([rule], ROLES, {"idp1": {"redis_hit_ratio": {(): 0.8}}}, set(), {}, 0)
    assert [f.key for f in low.findings] == ["hits:idp1"] and high.findings == ()


def test_the_measures_are_made_of_the_catalog_series() -> None:
    idle, root = (("mode", "idle"),), (("mount", "/"),)
    points = [
        Point("idp1", "cpu", idle, 0.25),
        Point("idp1", "memory_used_bytes", (), 3.0),
        Point("idp1", "memory_available_bytes", (), 1.0),
        Point("idp1", "disk_used_bytes", root, 95.0),
        Point("idp1", "disk_size_bytes", root, 100.0),
        Point("idp1", "load1", (), 6.0),
        Point("idp1", "cpu_cores", (), 2.0),
        Point("idp1", "redis_memory_used_bytes", (), 50.0),
        Point("idp1", "redis_memory_max_bytes", (), 0.0),  # no maxmemory: no measure
    ]
    values = host_values(points)["idp1"]
    assert values["cpu_busy_percent"] == {(): 75.0}
    assert values["memory_used_percent"] == {(): 75.0}
    assert values["disk_used_percent"] == {root: 95.0}
    assert values["load1_per_core"] == {(): 3.0}
    assert "redis_memory_percent" not in values


def test_the_defaults_breach_as_the_issue_says() -> None:
    rules = default_rules(30)
    values: dict[str, Values] = {
        "idp1": {
            "disk_used_percent": {(("mount", "/"),): 96.0},
            "load1_per_core": {(): 2.5},
            "memory_used_percent": {(): 91.0},
        }
    }
    found = {f.key: f.severity for f in evaluate(rules, ROLES, values, set(), {}, 0).findings}
    assert found == {}  # every default lasts a while first
    later = evaluate(rules, ROLES, values, set(), {k: -600 for k in _all_keys()}, 0).findings
    assert {f.key: f.severity for f in later} == {
        "disk-used:/:idp1": Severity.WARNING,
        "disk-full:/:idp1": Severity.CRITICAL,
        "load-per-core:idp1": Severity.WARNING,
        "memory-used:idp1": Severity.WARNING,
    }


def _all_keys() -> list[str]:
    root = (("mount", "/"),)
    return [
        key_of("disk-used", "idp1", root),
        key_of("disk-full", "idp1", root),
        key_of("load-per-core", "idp1", ()),
        key_of("memory-used", "idp1", ()),
    ]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"id": "x", "series": "nope"}, "series"),
        ({"id": "Bad id", "series": "load1"}, "id"),
        ({"id": "x", "series": "load1", "threshold": "lots"}, "threshold"),
        ({"id": "x", "series": "load1", "threshold": float("nan")}, "threshold"),
        ({"id": "x", "series": "load1", "duration": -1}, "duration"),
        ({"id": "x", "series": "load1", "duration": 86_401}, "duration"),
        ({"id": "x", "series": "load1", "comparison": ">="}, "comparison"),
        ({"id": "x", "series": "load1", "severity": "panic"}, "severity"),
        ({"id": "x", "series": "load1", "labels": {"mount": "/"}}, "labels"),
        ({"id": "x", "series": "disk_used_percent", "labels": {"mount": "/;rm"}}, "labels"),
        ({"id": "x", "series": "redis_clients", "roles": ["proxy"]}, "roles"),
        ({"id": "x", "series": "unreachable"}, "series"),
        ({"id": "x", "series": "load1", "extra": 1}, "extra"),
    ],
)
def test_every_field_is_checked_and_named(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(raw)
    assert f"{field}:" in caught.value.message


def test_a_change_keeps_the_rest_and_a_new_rule_needs_its_series() -> None:
    changed = parse_change({"threshold": 10, "duration": 10}, "cpu-busy").applied_to(CPU, CPU.id)
    assert (changed.threshold, changed.duration, changed.series) == (10, 10, CPU.series)
    with pytest.raises(InvalidInput, match="needs series, comparison, threshold"):
        RuleChange(severity=Severity.CRITICAL).applied_to(None, "mine")
    unreachable = default_rules(30)[-1]
    with pytest.raises(InvalidInput, match="only its duration"):
        RuleChange(threshold=3).applied_to(unreachable, unreachable.id)
    assert RuleChange(duration=60).applied_to(unreachable, unreachable.id).duration == 60


def test_a_key_names_its_host_last_as_every_alert_key_does() -> None:
    host = "idp1.example.org"
    key = key_of("disk-used", host, (("mount", "/mnt/a:b"),))
    assert key == "disk-used:/mnt/a:b:idp1.example.org"
    assert rule_and_host(key) == ("disk-used", host)
    # A notification names the host the key ends with.
    notice = Notice("opened", "prod", "metrics", key, "warning", "full", datetime.now(UTC))
    assert notice.host == host and f"on {host}:" in headline(notice)
