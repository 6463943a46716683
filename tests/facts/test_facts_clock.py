from __future__ import annotations

from typing import Any

import pytest

from clustermgr.facts.clock import CLOCK, max_skew, offset
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("clock"))
def test_clock(case: dict[str, Any]) -> None:
    check(CLOCK, case)


@pytest.mark.parametrize(
    ("before", "remote", "after", "expected"),
    [
        (100.0, 100.5, 101.0, 0.0),  # in step, one second round trip
        (100.0, 103.0, 100.2, 2.9),  # remote ahead
        (100.0, 95.0, 100.0, -5.0),  # remote behind, instant round trip
    ],
)
def test_offset(before: float, remote: float, after: float, expected: float) -> None:
    assert offset(before, remote, after) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ({}, 0.0),
        ({"a": 7.5}, 0.0),
        ({"a": 0.25, "b": -0.5}, 0.75),
        ({"a": 1.0, "b": 1.0, "c": 1.0}, 0.0),
        ({"a": -2.0, "b": 0.5, "c": 3.0}, 5.0),
    ],
)
def test_max_skew(offsets: dict[str, float], expected: float) -> None:
    assert max_skew(offsets) == pytest.approx(expected)
