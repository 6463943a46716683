"""The watcher loop with a made-up component: leases, recording, timeouts, pace, closing."""

from __future__ import annotations

import asyncio

import pytest

from clustermgr.core.manager import Manager
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.watcher import BackgroundWatch, CycleReport, Watcher
from clustermgr.services import clusters
from clustermgr.settings import Settings
from fakewatch import Fake

#: No job kinds: the loop tests start no job.
NO_KINDS = KindCatalog(())

DOWN = Finding("thing-down:x", Severity.CRITICAL, "the thing is down")


@pytest.fixture
async def quick(manager: Manager) -> Manager:
    manager.settings = manager.settings.model_copy(update={"watch_timeout": 0.2})
    for name in ("a", "b"):
        await clusters.create_cluster(manager, name)
    return manager


async def test_a_cycle_records_every_cycle_the_check_yields(quick: Manager) -> None:
    fake = Fake(findings=[DOWN])
    watcher = Watcher(quick, [fake], kinds=NO_KINDS)
    try:
        reports = await watcher.cycle()
        assert sorted(r.cluster for r in reports) == ["a", "b"]
        assert all(r.watched and r.component == "fake" for r in reports)
        assert all(r.snapshot == {"step": 2} for r in reports)  # the last cycle's
        assert [[a.key for a in r.opened] for r in reports] == [[DOWN.key], [DOWN.key]]
        latest = await store.latest(quick, "a", "fake")
        assert latest is not None and latest.data == {"step": 2}
        fake.findings = []
        (again, _) = await watcher.cycle()
        assert [a.key for a in again.resolved] == [DOWN.key]
        assert again.as_dict()["component"] == "fake"
    finally:
        await watcher.close()
    assert fake.closed and sorted(fake.forgotten) == ["a", "b"]


async def test_the_lease_keeps_a_second_watcher_out_until_released(
    quick: Manager, settings: Settings
) -> None:
    other = await Manager.open(settings)
    one, two = Fake(), Fake()
    first, second = Watcher(quick, [one], kinds=NO_KINDS), Watcher(other, [two], kinds=NO_KINDS)
    try:
        assert all(r.watched for r in await first.cycle())
        assert not any(r.watched for r in await second.cycle())
        assert two.checked == []  # no lease, no check
        assert await store.take_lease(quick, "fake:a", first.holder, seconds=10)

        one.watched = ["b"]  # "a" is no longer watched: its lease goes, its links close
        await first.cycle()
        assert "a" in one.forgotten
        taken = {r.cluster: r.watched for r in await second.cycle()}
        assert taken == {"a": True, "b": False}

        await first.close()  # a clean stop hands every lease over at once
        assert all(r.watched for r in await second.cycle())
    finally:
        await second.close()
        await other.close()


async def test_losing_the_lease_forgets_the_cluster(quick: Manager) -> None:
    fake = Fake(watched=["a"])
    watcher = Watcher(quick, [fake], kinds=NO_KINDS)
    try:
        assert (await watcher.cycle())[0].watched
        await store.release_lease(quick, "fake:a", watcher.holder)
        assert await store.take_lease(quick, "fake:a", "someone else", seconds=60)
        (lost,) = await watcher.cycle()
        assert not lost.watched and fake.forgotten == ["a"]
    finally:
        await watcher.close()


async def test_a_hung_check_is_cut_at_the_lease_time(quick: Manager) -> None:
    fake = Fake(watched=["a"], hang=30.0, every=0.05)
    watcher = Watcher(quick, [fake], kinds=NO_KINDS)
    assert watcher.lease_seconds(fake) < 3  # 2 timeouts + 2 s: the check gets that long
    try:
        (report,) = await asyncio.wait_for(watcher.cycle(), 10)
        assert report.watched and "error" in report.snapshot
        assert fake.forgotten == ["a"]  # its connections may hang: closed
    finally:
        await watcher.close()


async def test_one_cluster_only_and_nothing_to_watch(quick: Manager) -> None:
    fake = Fake()
    watcher = Watcher(quick, [fake], kinds=NO_KINDS, cluster="b")
    try:
        assert await watcher.clusters() == ["b"]
        assert [r.cluster for r in await watcher.cycle()] == ["b"]
    finally:
        await watcher.close()
    fake.watched = ["a"]
    with pytest.raises(Exception, match="nothing to watch"):
        await Watcher(quick, [fake], kinds=NO_KINDS, cluster="b").clusters()


async def test_each_component_runs_at_its_own_interval(quick: Manager) -> None:
    fast, slow = Fake(name="fast", watched=["a"], every=0.05), Fake(name="slow", watched=["a"])
    slow.every = 10.0
    seen: list[CycleReport] = []
    watch = BackgroundWatch(quick, [fast, slow], NO_KINDS)
    watch.watcher.settings = quick.settings
    original = watch.watcher.cycle_of

    async def counting(part: Fake) -> list[CycleReport]:
        reports = await original(part)
        seen.extend(reports)
        return reports

    watch.watcher.cycle_of = counting  # type: ignore[assignment,method-assign]
    await asyncio.sleep(0.6)
    await watch.stop()
    assert len(fast.checked) >= 4
    assert len(slow.checked) == 1
    assert fast.closed and slow.closed
