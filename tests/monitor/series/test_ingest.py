"""Counters become rates at ingest: never from a first reading, never negative."""

from __future__ import annotations

import pytest

from clustermgr.monitor.series.ingest import Point, Rates, Reading, labels_of, labels_text


def counter(value: float, host: str = "idp1") -> Reading:
    return Reading(host, "redis_commands", (), value, counter=True)


def test_a_counter_gives_its_rate_since_the_reading_before() -> None:
    rates = Rates()
    assert rates.points([counter(100)], at=1000.0) == []  # nothing to compare with yet
    assert rates.points([counter(150)], at=1010.0) == [Point("idp1", "redis_commands", (), 5.0)]
    assert rates.points([counter(150)], at=1020.0) == [Point("idp1", "redis_commands", (), 0.0)]


def test_a_gauge_is_kept_as_it_is() -> None:
    gauge = Reading("idp1", "load1", (), 0.5)
    assert Rates().points([gauge], at=1.0) == [Point("idp1", "load1", (), 0.5)]


def test_a_counter_reset_gives_no_point_then_rates_from_the_new_count() -> None:
    rates = Rates()
    rates.points([counter(1_000_000)], at=0.0)
    assert rates.points([counter(30)], at=10.0) == []  # the daemon restarted
    assert rates.points([counter(80)], at=20.0) == [Point("idp1", "redis_commands", (), 5.0)]


def test_no_time_passed_gives_no_point() -> None:
    rates = Rates()
    rates.points([counter(1)], at=5.0)
    assert rates.points([counter(2)], at=5.0) == []


def test_a_forgotten_host_starts_anew_and_the_others_go_on() -> None:
    rates = Rates()
    rates.points([counter(10), counter(10, "idp2")], at=0.0)
    rates.forget("idp1")
    out = rates.points([counter(20), counter(20, "idp2")], at=10.0)
    assert out == [Point("idp2", "redis_commands", (), 1.0)]


@pytest.mark.parametrize(
    ("labels", "text"),
    [((), ""), ((("mode", "user"),), "mode=user"), ((("b", "2"), ("a", "1")), "a=1,b=2")],
)
def test_labels_have_one_canonical_text(labels: tuple[tuple[str, str], ...], text: str) -> None:
    assert labels_text(labels) == text
    assert labels_of(text) == dict(labels)
