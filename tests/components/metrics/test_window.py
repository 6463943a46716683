"""What a reader asks for, checked the same way for the API and the CLI."""

from __future__ import annotations

import pytest

from clustermgr.components.metrics import window
from clustermgr.components.metrics.catalog import CATALOG
from clustermgr.errors import InvalidInput


def test_series_are_named_repeated_or_comma_separated_and_all_by_default() -> None:
    assert window.series_names(["cpu,load1", "cpu", " load5 "]) == ["cpu", "load1", "load5"]
    assert window.series_names([]) == [s.name for s in CATALOG]
    with pytest.raises(InvalidInput) as refused:
        window.series_names(["cpu,cpus"])
    assert "'cpus'" in refused.value.message and "redis_hit_ratio" in (refused.value.hint or "")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("6h", 21600), ("2w", 1209600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert window.duration(text) == seconds


@pytest.mark.parametrize("text", ["1 hour", "0h", "-1h", "1y", "", "99999w"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="invalid"):
        window.duration(text)


def test_times_are_epoch_seconds_or_iso_8601() -> None:
    assert window.moment("1767225600", "from") == 1767225600
    assert window.moment("1767225600.9", "from") == 1767225600
    assert window.moment("2026-01-01T00:00:00Z", "from") == 1767225600
    assert window.moment("2026-01-01T01:00:00+01:00", "from") == 1767225600
    assert window.moment("2026-01-01T00:00:00", "from") == 1767225600  # naive is UTC
    for bad in ("yesterday", "1e400", "9" * 40, "-5", "10000-01-01"):
        with pytest.raises(InvalidInput, match="invalid time"):
            window.moment(bad, "from")


def test_the_window_defaults_to_the_hour_before_now_and_is_never_empty() -> None:
    assert window.window(None, None, now=10_000) == (6400, 10_000)
    assert window.window("100", "200", now=10_000) == (100, 200)
    with pytest.raises(InvalidInput, match="empty"):
        window.window("200", "100", now=10_000)
    with pytest.raises(InvalidInput, match="too long"):
        window.window("0", "253402300799", now=10_000)
