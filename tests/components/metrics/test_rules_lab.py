"""A threshold rule on a lab of its own: a bounded CPU burn in one lab host opens the
rule's alert once it has lasted the rule's (shortened) duration; cut off the network,
the host's alert stays open (a gap judges nothing) while the edited ``host-unreachable``
rule opens its own; the rule's alert resolves once the burn stops.

Lab hosts are network namespaces of one machine and share its ``/proc/stat``: every
host's node exporter reports the whole machine's CPU, which other work on the machine
keeps busy.  So the rule watches the CPU share of niced processes (``cpu`` of mode
``nice``), which nothing else here moves, and the burn runs niced: the same rule,
evaluation and alert path as ``cpu-busy``, on a figure only the burn raises.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.metrics import rulestore
from clustermgr.monitor import store
from clustermgr.monitor.watcher import CycleReport, Watcher
from labfixture import Lab
from metricslab import exporter_lab, metrics_watcher
from metricslab import scrape as scrape_once

pytestmark = pytest.mark.integration

BURN_PIDS = "/run/clustermgr-test-burn.pids"
#: Two niced loops (the machine has two cores), each ended by ``timeout`` after 60 s.
BURN = (
    f"rm -f {BURN_PIDS}; for n in 1 2; do setsid -f sh -c 'echo $$ >> {BURN_PIDS}; "
    'exec timeout 60 nice -n 2 sh -c "while :; do :; done"\' </dev/null >/dev/null 2>&1; done'
)
STOP_BURN = f"kill $(cat {BURN_PIDS}) 2>/dev/null; rm -f {BURN_PIDS}; true"
RULE = {
    "series": "cpu",
    "labels": {"mode": "nice"},
    "comparison": ">",
    "threshold": 0.1,
    "duration": 10,
    "severity": "critical",
}
DURATION = 10.0


@pytest.fixture(scope="module")
async def lab(metrics_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with exporter_lab(metrics_lab, tmp_path_factory.mktemp("rules-lab"), ["idp1"]) as running:
        yield running


@pytest.fixture
async def watcher(lab: Lab) -> AsyncIterator[Watcher]:
    async with metrics_watcher(lab, 2.0) as watching:
        yield watching


async def scrape(watcher: Watcher) -> CycleReport:
    """One scrape, due 2.0 s after the one before."""
    return await scrape_once(watcher, 2.0)


async def test_a_cpu_burn_opens_the_rules_alert_after_its_duration_and_resolves(
    lab: Lab, watcher: Watcher
) -> None:
    cluster = lab.config.cluster
    host = lab.host("idp1").fqdn
    key = f"cpu-nice:nice:{host}"
    manager = watcher.manager
    await rulestore.change(manager, cluster, "cpu-nice", RULE, actor="tests")
    # Critical at once (by default: a warning first, critical after 30 s).
    edit = {"duration": 0, "severity": "critical"}
    await rulestore.change(manager, cluster, "host-unreachable", edit, actor="tests")
    for _ in range(3):  # rates need two scrapes; nothing niced runs yet
        report = await scrape(watcher)
        assert key not in [a.key for a in report.opened], report.snapshot
    await lab.sh("idp1", BURN)
    try:
        burning = time.monotonic()
        opened_after = None
        while time.monotonic() - burning < DURATION + 20:
            report = await scrape(watcher)
            if key in [a.key for a in report.opened]:
                opened_after = time.monotonic() - burning
                [alert] = [a for a in report.opened if a.key == key]
                break
        assert opened_after is not None, "the burn opened no alert"
        # Not before the rule's duration (less a scrape: the breach shows at the first
        # scrape after the burn starts); within it and a few scrapes.
        assert DURATION - 2.5 <= opened_after <= DURATION + 20
        assert alert.severity == "critical" and "cpu of " + host in alert.message
        assert "mode nice" in alert.message
        again = await scrape(watcher)
        assert key not in [a.key for a in again.opened]  # opened once, refreshed after
        lab.partition("idp1")
        try:
            cut = await scrape(watcher)
            assert not cut.snapshot["hosts"][host]["reachable"], cut.snapshot
            assert [(a.key, a.severity) for a in cut.opened] == [
                (f"host-unreachable:{host}", "critical")
            ]
            assert key not in [a.key for a in cut.resolved]
            still = await store.alerts(manager, cluster, open_only=True, component="metrics")
            assert key in [a.key for a in still]
        finally:
            lab.heal("idp1")
    finally:
        await lab.sh("idp1", STOP_BURN)
    stopped = time.monotonic()
    resolved = False
    while not resolved and time.monotonic() - stopped < 20:
        resolved = key in [a.key for a in (await scrape(watcher)).resolved]
    assert resolved, "the alert did not resolve after the burn stopped"
    still = await store.alerts(manager, cluster, open_only=True, component="metrics")
    assert key not in [a.key for a in still]
