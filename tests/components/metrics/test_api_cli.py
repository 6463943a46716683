"""Reading stored series: ``GET /api/v1/clusters/{name}/metrics`` and
``clustermgr metrics show``, on points written as a scrape writes them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.components.metrics.cli import figure, sparkline
from clustermgr.core.manager import Manager
from clustermgr.monitor.series import ingest
from clustermgr.monitor.series.ingest import Point, SeriesIds
from clustermgr.services import clusters
from clustermgr.settings import Settings
from webfixture import FreshWeb, client

pytestmark = pytest.mark.integration


async def store_points(manager: Manager, cluster: str, now: int) -> None:
    """Ten minutes of load on idp1 (a gap in the middle), memory on idp1 and idp2."""
    ids = SeriesIds(cluster)
    for n in range(60):
        at = now - 600 + 10 * n
        if 20 <= n < 30:
            continue
        points = [
            Point("idp1", "load1", (), float(n)),
            Point("idp1", "cpu", (("mode", "user"),), 0.25),
        ]
        await ingest.write(manager, ids, at, points)
    await ingest.write(manager, ids, now - 5, [Point("idp2", "memory_used_bytes", (), 2**30)])


async def test_the_api_answers_steps_with_null_gaps_and_names_the_choices(
    fresh_web: FreshWeb,
) -> None:
    manager: Manager = fresh_web.app.state.web.manager
    await clusters.create_cluster(manager, "metrics-api")
    now = int(time.time()) // 60 * 60
    await store_points(manager, "metrics-api", now)
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        got = await api.get(
            "/api/v1/clusters/metrics-api/metrics",
            params={"series": "load1", "host": "idp1", "from": now - 600, "to": now, "step": 60},
        )
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["from"], body["to"], body["step"], body["resolution"]) == (
            now - 600,
            now,
            60,
            "raw",
        )
        [load] = body["series"]
        assert (load["name"], load["host"], load["labels"], load["unit"]) == (
            "load1",
            "idp1",
            {},
            "",
        )
        values = [v for _, v in load["points"]]
        assert values[:5] == [2.5, 8.5, 14.5, 18.5, None] and len(values) == 10
        both = await api.get(
            "/api/v1/clusters/metrics-api/metrics",
            params=[("series", "cpu,memory_used_bytes"), ("from", str(now - 600))],
        )
        assert [(s["name"], s["host"], s["labels"]) for s in both.json()["series"]] == [
            ("cpu", "idp1", {"mode": "user"}),
            ("memory_used_bytes", "idp2", {}),
        ]
        bad = await api.get("/api/v1/clusters/metrics-api/metrics", params={"series": "cpu,nope"})
        assert bad.status_code == 400
        assert "'nope'" in bad.json()["message"] and "load15" in bad.json()["hint"]
        for params in ({"from": "yesterday"}, {"from": now, "to": now - 60}):
            bad = await api.get("/api/v1/clusters/metrics-api/metrics", params=params)
            assert bad.status_code == 400, params
        missing = await api.get("/api/v1/clusters/nowhere/metrics")
        assert missing.status_code == 404
    async with client(app=fresh_web.app) as anon:
        assert (await anon.get("/api/v1/clusters/metrics-api/metrics")).status_code == 401


async def test_metrics_show_prints_a_table_and_json(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    manager = await Manager.open(Settings(data_dir=tmp_path / "data"))
    try:
        await store_points(manager, "t", int(time.time()))
    finally:
        await manager.close()
    ran = cli("metrics", "show", "t", "--series", "load1", "--series", "memory_used_bytes")
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["host", "series", "now", "min", "avg", "max", "trend"]
    host, name, now, least, average, most = lines[1].split()[:6]
    assert (host, name, now) == ("idp1", "load1", "59")
    # The least, average and greatest of the trend's steps (each an average).
    # The first step may hold the first point alone (0): where the steps fall depends on
    # the second the test runs at.
    assert 0 <= float(least) < float(average) < float(most) <= 59
    assert lines[2].split()[:4] == ["idp2", "memory_used_bytes", "1.0", "GiB"]
    assert "reading 2 series of t" in ran.stderr
    ran = cli("metrics", "show", "t", "--host", "idp1", "--since", "15m", "--json")
    assert ran.code == 0, ran.stderr
    data = ran.json()
    assert {s["name"] for s in data["series"]} == {"load1", "cpu"}
    assert data["resolution"] == "raw" and data["to"] - data["from"] <= 900 + data["step"]
    for bad, said in ((("--since", "an hour"), "invalid --since"), (("-s", "nope"), "'nope'")):
        ran = cli("metrics", "show", "t", *bad)
        assert ran.code == 2 and said in ran.stderr, ran.stderr


def test_trend_and_figures_read_as_people_read_them() -> None:
    assert sparkline([0.0, None, 7.0, 3.5]) == "▁ █▅"
    assert sparkline([1.0, 1.0]) == "▁▁"
    assert sparkline([None]) == " "
    assert figure(0.256, "ratio") == "26 %"
    assert figure(3 * 2**20, "bytes/s") == "3.0 MiB/s"
    assert figure(None, "bytes") == "-"
    assert figure(12.5, "ops/s") == "12.5 ops/s"
    assert figure(2 * 86400, "s") == "2.0 d"
