"""The watcher's ``metrics`` part on a lab of its own (bare servers): every server's node
exporter (started by its init script with the defaults file the exporters stage writes)
is read through its SSH connection and stored, the space of its overlay root included;
a stopped exporter or a server cut off the network leaves a gap (no points, never
zeros) and a cut-off server opens ``host-unreachable:H``; rates are never negative,
whatever restarts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from cli_runner import Cli
from clustermgr.components.metrics.status import status
from clustermgr.monitor.series.models import MetricPoint, MetricSeries
from clustermgr.monitor.watcher import CycleReport, Watcher
from labfixture import Lab
from metricslab import START, STOP, exporter_lab, metrics_watcher
from metricslab import scrape as scrape_once

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(metrics_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with exporter_lab(metrics_lab, tmp_path_factory.mktemp("collect-lab")) as running:
        yield running


@pytest.fixture(scope="module")
async def watcher(lab: Lab) -> AsyncIterator[Watcher]:
    async with metrics_watcher(lab, 1.0) as watching:
        yield watching


async def scrape(watcher: Watcher) -> CycleReport:
    """One scrape, due 1.0 s after the one before."""
    report = await scrape_once(watcher, 1.0)
    assert report.snapshot, report
    return report


async def points(
    watcher: Watcher, host: str, name: str, since: int, labels: str | None = None
) -> list[float]:
    """The points of ``name`` since ``since`` (of one series when ``labels`` is given)."""
    query = (
        select(MetricPoint.value)
        .join(MetricSeries, MetricSeries.id == MetricPoint.series_id)
        .where(MetricSeries.host == host, MetricSeries.name == name, MetricPoint.at >= since)
    )
    if labels is not None:
        query = query.where(MetricSeries.labels == labels)
    async with watcher.manager.db.session() as session:
        return [float(v) for v in await session.scalars(query)]


async def test_every_server_is_scraped_into_the_store_within_30_s(
    lab: Lab, watcher: Watcher
) -> None:
    started = int(time.time())
    deadline = time.monotonic() + 30
    hosts = [h.fqdn for h in lab.config.hosts()]
    while True:
        report = await scrape(watcher)
        found = {h: await points(watcher, h, "cpu", started) for h in hosts}
        if all(found.values()) or time.monotonic() > deadline:
            break
    assert all(found.values()), (found, report.snapshot)
    for host in hosts:
        assert report.snapshot["hosts"][host]["reachable"]
        assert await points(watcher, host, "load1", started)
        assert await points(watcher, host, "memory_used_bytes", started)
        # Each lab server's root is an overlay, as a container's is.
        assert await points(watcher, host, "disk_used_bytes", started, "mount=/")
        assert await points(watcher, host, "disk_size_bytes", started, "mount=/")
        # The CPU's modes are shares of all its time: each between 0 and 1.
        assert all(0 <= v <= 1.001 for v in found[host])
    assert not report.opened


async def test_a_stopped_exporter_leaves_a_gap_and_a_restarted_one_no_negative_rate(
    lab: Lab, watcher: Watcher
) -> None:
    host = lab.host("idp2").fqdn
    await scrape(watcher)
    await lab.sh("idp2", STOP)
    try:
        stopped = int(time.time()) + 1
        report = await scrape(watcher)
        seen = report.snapshot["hosts"][host]
        assert seen["reachable"] and "node" in seen["errors"], seen
        assert await points(watcher, host, "load1", stopped) == []
        assert not report.opened  # the server answers: only its exporter is away
    finally:
        await lab.sh("idp2", START)
    back = int(time.time())
    for _ in range(3):
        await scrape(watcher)
    assert await points(watcher, host, "load1", back)
    for name in ("cpu", "network_receive_bytes", "network_transmit_bytes", "disk_read_bytes"):
        assert all(v >= 0 for v in await points(watcher, host, name, 0)), name


async def test_a_server_cut_off_leaves_a_gap_and_is_marked_unreachable(
    lab: Lab, watcher: Watcher
) -> None:
    host = lab.host("idp1").fqdn
    await scrape(watcher)
    lab.partition("idp1")
    try:
        cut = int(time.time()) + 1
        report = await scrape(watcher)
        assert not report.snapshot["hosts"][host]["reachable"], report.snapshot
        assert [a.key for a in report.opened] == [f"host-unreachable:{host}"]
        assert report.opened[0].severity == "warning"  # critical once it lasts
        assert await points(watcher, host, "load1", cut) == []
        other = lab.host("idp2").fqdn
        assert await points(watcher, other, "load1", cut)  # the others go on
    finally:
        lab.heal("idp1")
    deadline = time.monotonic() + 30
    while True:
        report = await scrape(watcher)
        if report.resolved or time.monotonic() > deadline:
            break
    assert [a.key for a in report.resolved] == [f"host-unreachable:{host}"], report


async def test_status_reads_every_source_once_and_says_what_answers(
    lab: Lab, watcher: Watcher
) -> None:
    report = await status(watcher.manager, lab.config.cluster)
    seen = report.as_dict()["hosts"]
    assert all(h["reachable"] and h["readings"] > 0 for h in seen.values()), seen
    # Bare servers: no Redis exporter, no slapd; the proxy has no NGINX exporter.
    idp = seen[lab.host("idp1").fqdn]["errors"]
    assert set(idp) == {"ldap", "redis"} and "127.0.0.1:9121" in idp["redis"]
    assert not report.ok
    ran = Cli(lab.settings.data_dir)("metrics", "status", lab.config.cluster, "--json")
    assert ran.code == 1 and ran.json()["hosts"].keys() == seen.keys(), ran.stderr
