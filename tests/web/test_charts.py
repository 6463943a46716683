"""The charts' geometry (pure): lines per host, a round top, time left to right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clustermgr.monitor.views import Bucket, HistoryView, SeriesView
from clustermgr.web import charts

HOSTS = ["idp1.lab.test", "idp2.lab.test", "idp3.lab.test"]
UNTIL = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(hours=1)


def xy(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]


def test_a_line_per_host_scaled_to_a_round_top_with_time_left_to_right() -> None:
    a, b, _ = HOSTS
    t1, t2 = UNTIL - timedelta(minutes=30), UNTIL - timedelta(minutes=10)
    points = {
        a: [(t1, 0.12), (t2, 0.30), (UNTIL - timedelta(hours=2), 7.0)],  # the last is outside
        b: [(t2, 0.07)],
        "other.lab.test": [(t1, 0.01)],
    }
    chart = charts.line_chart("c", "Latency", HOSTS, points, since=SINCE, until=UNTIL)
    assert [line.host for line in chart.lines] == [*HOSTS, "other.lab.test"]
    by_host = {line.host: line for line in chart.lines}
    assert by_host[a].count == 2 and by_host[a].latest == "300 ms" and by_host[a].label == "idp1"
    assert by_host[HOSTS[2]].count == 0 and by_host[HOSTS[2]].points == "" and not chart.empty
    assert chart.y_ticks[-1].label == "500 ms", "0.30 s rounds up to a top of 0.5 s"
    assert chart.y_ticks[0].at == chart.bottom and chart.y_ticks[-1].at == chart.top
    (x1, y1), (x2, y2) = xy(by_host[a].points)
    assert chart.left < x1 < x2 < chart.right, "time runs left to right inside the plot"
    assert x1 == chart.left + (chart.right - chart.left) / 2, "half way through the hour"
    assert chart.top <= y2 < y1 <= chart.bottom, "the higher value is drawn higher"
    assert [t.label for t in chart.x_ticks] == ["03:00", "03:15", "03:30", "03:45", "04:00"]


def test_an_empty_window_is_an_empty_chart() -> None:
    chart = charts.line_chart("c", "Latency", HOSTS, {}, since=SINCE, until=UNTIL)
    assert chart.empty and all(line.points == "" for line in chart.lines)
    assert [line.latest for line in chart.lines] == [None, None, None]


def test_byte_values_read_in_binary_units_with_a_round_top() -> None:
    points = {HOSTS[0]: [(SINCE + timedelta(minutes=5), 3.2 * 2**20)]}
    chart = charts.line_chart("m", "Memory", HOSTS, points, since=SINCE, until=UNTIL, unit="bytes")
    assert chart.lines[0].latest == "3.2 MiB"
    assert chart.y_ticks[-1].label == "5 MiB"
    assert charts.value_label(512, "bytes") == "512 B"
    assert charts.value_label(2.5, "seconds") == "2.5 s"


def test_per_host_keeps_the_highest_over_peers_per_bucket() -> None:
    at = SINCE + timedelta(minutes=1)
    history = HistoryView(
        SINCE,
        UNTIL,
        60,
        (
            SeriesView("probe_seconds", "idp1", "idp2", (Bucket(at, 0.1, 0.05, 0.2, 3),)),
            SeriesView("probe_seconds", "idp1", "idp3", (Bucket(at, 0.3, 0.25, 0.4, 3),)),
            SeriesView("lag_seconds", "idp1", "idp2", (Bucket(at, 9.0, 9.0, 9.0, 1),)),
        ),
    )
    assert charts.per_host(history, "probe_seconds", "max") == {"idp1": [(at, 0.4)]}
    assert charts.per_host(history, "probe_seconds", "avg") == {"idp1": [(at, 0.3)]}
    chart = charts.history_chart("p", "Probes", ["idp1"], history, "probe_seconds")
    assert chart.lines[0].count == 1 and chart.lines[0].latest == "400 ms"
