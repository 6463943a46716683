"""The series in a real VictoriaMetrics (``CLUSTERMGR_METRICS_URL``): written as the
watcher writes them, read back by the API and the CLI in the embedded store's shape,
and an unreachable one that loses points, logs once and answers reads with a 503."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.components.metrics.watch import snapshot
from clustermgr.core.manager import Manager
from clustermgr.errors import SeriesStoreUnavailable
from clustermgr.lab.victoria import Victoria, free_port, running_victoria
from clustermgr.monitor.series.ingest import Point
from clustermgr.monitor.series.store import EmbeddedStore, SeriesStore, Written, series_store
from clustermgr.monitor.series.victoria import VictoriaStore, exposition, selector
from clustermgr.services import clusters
from clustermgr.settings import Settings
from webfixture import client, create_user, running_app

pytestmark = pytest.mark.integration

#: A Monday 00:00:00 UTC, a week before the tests run (VictoriaMetrics keeps the past).
T0 = (int(time.time()) // 604800 - 1) * 604800 + 4 * 86400


@pytest.fixture(scope="module")
async def victoria(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Victoria]:
    async with running_victoria(tmp_path_factory.mktemp("victoria") / "data") as running:
        yield running


async def scrape_like(store: SeriesStore, cluster: str) -> None:
    """Two minutes every 10 s on idp1 (nothing from T0+30 to T0+60: a gap), idp2 once."""
    for n in range(12):
        if 3 <= n < 6:
            continue
        points = [
            Point("idp1", "load1", (), float(n)),
            Point("idp1", "cpu", (("mode", "user"),), 0.25),
            Point("idp1", "cpu", (("mode", "system"),), 0.5),
        ]
        written = await store.write(cluster, T0 + 10 * n, points)
        assert written == Written(3)
    await store.write(cluster, T0 + 5, [Point("idp2", "load1", (), 7.0)])


async def test_both_stores_answer_the_same_steps_gaps_and_labels(
    victoria: Victoria, manager: Manager
) -> None:
    remote = VictoriaStore(victoria.url, lookback=86400)
    embedded = EmbeddedStore(manager)
    try:
        for store in (remote, embedded):
            await scrape_like(store, "same")
        await victoria.flush()
        for kwargs in (
            {"names": ["load1"], "step": 30, "host": "idp1"},
            {"names": ["cpu", "load1"], "step": 60},
            {"names": ["load1"], "step": 10},
        ):
            names = kwargs.pop("names")
            args = {"start": T0, "end": T0 + 120, **kwargs}
            got = await remote.query("same", names, **args)  # type: ignore[arg-type]
            want = await embedded.query("same", names, **args)  # type: ignore[arg-type]
            assert (got.start, got.end, got.step) == (want.start, want.end, want.step)
            assert got.resolution == f"{got.step}s" and want.resolution == "raw"
            assert [(s.name, s.host, s.labels, s.points) for s in got.series] == [
                (s.name, s.host, s.labels, s.points) for s in want.series
            ]
        idp1 = await remote.query("same", ["load1"], start=T0, end=T0 + 120, step=30, host="idp1")
        assert [v for _, v in idp1.series[0].points] == [1.0, None, 7.0, 10.0]
        cpu = await remote.query("same", ["cpu"], start=T0, end=T0 + 120, step=60)
        assert [s.labels for s in cpu.series] == [{"mode": "system"}, {"mode": "user"}]
        assert (await remote.query("other", ["load1"], start=T0, end=T0 + 60)).series == []
    finally:
        await remote.aclose()


async def test_the_api_and_the_cli_read_victoriametrics_when_it_is_set(
    victoria: Victoria, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", metrics_url=victoria.url + "/")
    assert settings.metrics_url == victoria.url
    admin = await create_user(settings)
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        await clusters.create_cluster(manager, "vm-api")
        store = series_store(manager)
        assert store.kind == "victoriametrics"
        now = int(time.time()) // 60 * 60
        try:
            for n in range(6):
                await store.write("vm-api", now - 300 + 60 * n, [Point("idp1", "load1", (), n)])
        finally:
            await store.aclose()
        await victoria.flush()
        async with client(app=app, token=admin.token) as api:
            got = await api.get(
                "/api/v1/clusters/vm-api/metrics",
                params={"series": "load1", "from": now - 300, "to": now, "step": 60},
            )
            assert got.status_code == 200, got.text
            body = got.json()
            assert (body["from"], body["to"], body["step"], body["resolution"]) == (
                now - 300,
                now,
                60,
                "60s",
            )
            [load] = body["series"]
            assert (load["name"], load["host"], load["labels"], load["unit"]) == (
                "load1",
                "idp1",
                {},
                "",
            )
            assert [v for _, v in load["points"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    cli = Cli(tmp_path / "data", CLUSTERMGR_METRICS_URL=victoria.url)
    ran = cli("metrics", "show", "vm-api", "--series", "load1", "--since", "10m", "--json")
    assert ran.code == 0, ran.stderr
    [load] = ran.json()["series"]
    assert load["latest"] == [now, 5.0]
    assert ran.json()["resolution"].endswith("s")


async def test_an_unreachable_victoriametrics_loses_points_logs_once_and_reads_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    store = VictoriaStore(f"http://user:hush@127.0.0.1:{port}", lookback=3600, timeout=2)
    caplog.set_level(logging.WARNING, logger="clustermgr.monitor.series.victoria")
    try:
        first = await store.write("c", T0, [Point("idp1", "load1", (), 1.0)])
        second = await store.write("c", T0 + 10, [Point("idp1", "load1", (), 2.0)])
        assert first.points == second.points == 0
        assert first.error and "Connect" in first.error
        assert first.down_since is not None and second.down_since == first.down_since
        said = [r.getMessage() for r in caplog.records]
        assert len(said) == 1 and "takes no points" in said[0]
        assert "hush" not in said[0] and f"http://127.0.0.1:{port}" in said[0]
        seen = snapshot("c", T0, [], second, store.kind)["store"]
        assert seen == {
            "kind": "victoriametrics",
            "ok": False,
            "error": second.error,
            "down_since": first.down_since,
        }
        with pytest.raises(SeriesStoreUnavailable, match="cannot be read") as refused:
            await store.query("c", ["load1"], start=T0, end=T0 + 60)
        assert "hush" not in refused.value.message
        async with running_victoria(tmp_path / "vm", port=port) as back:
            again = await store.write("c", T0 + 20, [Point("idp1", "load1", (), 3.0)])
            assert again == Written(1)
            assert "takes points again" in caplog.records[-1].getMessage()
            await back.flush()
            read = await store.query("c", ["load1"], start=T0, end=T0 + 30, step=10)
            assert [v for _, v in read.series[0].points] == [None, None, 3.0]
    finally:
        await store.aclose()


async def test_reads_of_an_unreachable_victoriametrics_are_a_503(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", metrics_url=f"http://127.0.0.1:{free_port()}")
    admin = await create_user(settings)
    async with running_app(settings) as app:
        await clusters.create_cluster(app.state.web.manager, "down")
        async with client(app=app, token=admin.token) as api:
            got = await api.get("/api/v1/clusters/down/metrics", params={"series": "load1"})
    assert got.status_code == 503
    body = got.json()
    assert body["error"] == "series_store_unavailable"
    assert "VictoriaMetrics" in body["message"] and "CLUSTERMGR_METRICS_URL" in body["hint"]


def test_points_render_as_the_prometheus_text_format_with_their_time() -> None:
    text = exposition("prod", T0, [Point("idp1", "cpu", (("mode", 'us"er'),), 0.5)]).decode()
    assert f'clustermgr_cpu{{cluster="prod",host="idp1",mode="us\\"er"}} 0.5 {T0}000' in text
    assert selector("prod", ["load1"], ["a.b"]) == (
        '{__name__=~"clustermgr_load1",cluster="prod",host=~"a\\\\.b"}'
    )


def test_the_metrics_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        Settings(metrics_url="victoria:8428")
    assert Settings(metrics_url=" ").metrics_url is None
