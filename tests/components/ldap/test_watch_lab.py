"""Issue 5, detection: the watcher reports each fault as an alert within 15 s and
resolves it once the fault is gone; samples (probe latency, lag) build the history.

One lab of its own (three identity nodes, replication applied), one watcher running
in the background with the default interval and timeouts for the whole module.
Each test starts from a healthy cluster (no open alert) and leaves one behind.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from clustermgr.components import registry
from clustermgr.components.ldap import render, tls
from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap.model import REPLICATOR_DN
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.monitor.views import AlertView
from clustermgr.monitor.watcher import BackgroundWatch
from clustermgr.pki.ca import new_ca
from labfixture import SLOT, Lab, running_lab
from ldaplab import replicate, slapadd_unreplicated

pytestmark = pytest.mark.integration

#: What the issue asks: a fault shows within 15 s of happening.
DETECT_WITHIN = 15.0
MODIFY = "ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null"
#: Measured detection and recovery times, printed at the end of the module.
TIMES: dict[str, float] = {}


@dataclass
class Watched:
    lab: Lab
    manager: Manager

    @property
    def cluster(self) -> str:
        return self.lab.config.cluster

    def fqdn(self, name: str) -> str:
        return self.lab.host(name).fqdn

    async def open_alerts(self) -> dict[str, AlertView]:
        return {a.key: a for a in await store.alerts(self.manager, self.cluster, open_only=True)}

    async def until(
        self, what: str, check: Callable[[dict[str, AlertView]], bool], since: float
    ) -> dict[str, AlertView]:
        """Poll the open alerts until ``check`` holds; fail after 15 s from ``since``."""
        while True:
            alerts = await self.open_alerts()
            if check(alerts):
                TIMES[what] = round(time.monotonic() - since, 1)
                return alerts
            elapsed = time.monotonic() - since
            assert elapsed < DETECT_WITHIN, f"{what}: not after {elapsed:.1f} s: {sorted(alerts)}"
            await asyncio.sleep(0.2)

    async def healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while alerts := await self.open_alerts():
            assert time.monotonic() < deadline, {k: a.message for k, a in alerts.items()}
            await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
async def watched(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Watched]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap-watch-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=3) as lab:
        applied = await replicate(lab)
        assert applied["ok"], json.dumps(applied, indent=1)
        manager = await Manager.open(lab.settings)
        watch = BackgroundWatch(manager, registry.watched(manager), registry.job_kinds())
        try:
            yield Watched(lab, manager)
        finally:
            await watch.stop()
            await manager.close()
            sys.stderr.write(f"\nLDAP watch, seconds from fault to alert: {TIMES}\n")


async def test_a_healthy_cluster_records_probes_from_every_node_and_lag(watched: Watched) -> None:
    await watched.healthy()
    nodes = {watched.fqdn(n) for n in ("idp1", "idp2", "idp3")}
    every_pair = {(a, b) for a in nodes for b in nodes if a != b}
    deadline = time.monotonic() + 30
    while True:  # one probe per cycle, the nodes in turn; a lag once a node has written
        snapshot = await store.latest(watched.manager, watched.cluster, "ldap")
        probes = snapshot.data["probes"] if snapshot else []
        samples = await store.samples(
            watched.manager, watched.cluster, "ldap", since=utcnow() - timedelta(minutes=10)
        )
        probed = {(s.host, s.peer) for s in samples if s.metric == "probe_seconds"}
        lagged = {(s.host, s.peer) for s in samples if s.metric == "lag_seconds"}
        if {p["source"] for p in probes} == nodes and probed == lagged == every_pair:
            break
        assert time.monotonic() < deadline, (snapshot, sorted(probed), sorted(lagged))
        await asyncio.sleep(0.5)
    assert snapshot is not None
    assert {n["state"] for n in snapshot.data["nodes"]} == {"ok"}
    assert len(snapshot.data["agreements"]) == 6
    assert {a["state"] for a in snapshot.data["agreements"]} == {"ok"}
    for probe in probes:
        assert all(s is not None and s < 3 for s in probe["seconds"].values()), probe


async def test_a_stopped_slapd_is_reported_and_resolved(watched: Watched) -> None:
    await watched.healthy()
    idp2 = watched.fqdn("idp2")
    await watched.lab.sh("idp2", "service slapd stop >/dev/null")
    stopped = time.monotonic()
    alerts = await watched.until("slapd stopped", lambda a: f"node-down:{idp2}" in a, stopped)
    assert "does not answer" in alerts[f"node-down:{idp2}"].message
    assert f"node-unreachable:{idp2}" not in alerts  # SSH still works: told apart

    await watched.lab.sh("idp2", "service slapd start >/dev/null")
    started = time.monotonic()
    await watched.until("slapd started", lambda a: f"node-down:{idp2}" not in a, started)
    await watched.healthy()


async def test_a_wrong_replicator_password_opens_credentials_alerts(watched: Watched) -> None:
    await watched.healthy()
    idp1, idp2, idp3 = (watched.fqdn(n) for n in ("idp1", "idp2", "idp3"))
    wrong = render.ssha("not-the-cluster-password")
    await watched.lab.sh(
        "idp2",
        f'printf "dn: %s\\nchangetype: modify\\nreplace: userPassword\\nuserPassword: %s\\n-\\n"'
        f' "$1" "$2" | {MODIFY}',
        REPLICATOR_DN,
        wrong,
    )
    changed = time.monotonic()
    using_idp2 = (f"agreement:{idp1}<-{idp2}", f"agreement:{idp3}<-{idp2}")
    alerts = await watched.until(
        "replicator password changed", lambda a: all(k in a for k in using_idp2), changed
    )
    for key in using_idp2:
        assert "credentials" in alerts[key].message, alerts[key].message
    text = json.dumps([a.as_dict() for a in alerts.values()])
    assert "not-the-cluster-password" not in text and wrong not in text

    assert (await replicate(watched.lab))["ok"]  # apply restores the password
    repaired = time.monotonic()
    await watched.until(
        "replicator password restored", lambda a: not any(k in a for k in using_idp2), repaired
    )
    await watched.healthy()


async def test_a_consumer_that_distrusts_its_providers_opens_tls_alerts(watched: Watched) -> None:
    await watched.healthy()
    idp1, idp2, idp3 = (watched.fqdn(n) for n in ("idp1", "idp2", "idp3"))
    stranger = new_ca("not this cluster's CA").cert_pem
    await watched.lab.sh(
        "idp3",
        'printf "%s\\n" "$2" > "$1" && service slapd restart >/dev/null',
        tls.CA_FILE,
        stranger,
    )
    restarted = time.monotonic()
    consumer = (f"agreement:{idp3}<-{idp1}", f"agreement:{idp3}<-{idp2}")
    alerts = await watched.until(
        "CA replaced on a consumer", lambda a: all(k in a for k in consumer), restarted
    )
    for key in consumer:
        assert "TLS" in alerts[key].message, alerts[key].message
    assert f"agreement:{idp1}<-{idp3}" not in alerts  # idp3's own certificate is still good

    assert (await replicate(watched.lab))["ok"]
    await watched.healthy()


async def test_a_partitioned_node_is_unreachable_until_healed(watched: Watched) -> None:
    await watched.healthy()
    idp1, idp2, idp3 = (watched.fqdn(n) for n in ("idp1", "idp2", "idp3"))
    watched.lab.partition("idp3")
    cut = time.monotonic()
    try:
        expected = (
            f"node-unreachable:{idp3}",
            f"agreement:{idp1}<-{idp3}",
            f"agreement:{idp2}<-{idp3}",
        )
        alerts = await watched.until("partition", lambda a: all(k in a for k in expected), cut)
        assert "cannot reach the provider" in alerts[f"agreement:{idp1}<-{idp3}"].message
    finally:
        watched.lab.heal("idp3")
    healed = time.monotonic()
    await watched.until("healed", lambda a: not any(k in a for k in expected), healed)
    await watched.healthy()

    history = await store.alerts(watched.manager, watched.cluster, open_only=False)
    episode = next(a for a in history if a.key == f"node-unreachable:{idp3}")
    assert episode.resolved_at is not None and episode.resolved_at > episode.opened_at


async def test_data_that_differs_at_rest_is_reported_and_reinit_clears_it(
    watched: Watched,
) -> None:
    """An entry loaded behind replication's back: contextCSNs stay equal, the data does not."""
    await watched.healthy()
    idp3 = watched.fqdn("idp3")
    await slapadd_unreplicated(watched.lab, "idp3", "ou=behind-the-back,o=gluu")
    back = time.monotonic()
    alerts = await watched.until("data differs", lambda a: f"data:{idp3}" in a, back)
    message = alerts[f"data:{idp3}"].message
    assert "1 extra" in message and f"ldap reinit {idp3} --from" in message, message
    assert not any(k.startswith("data:") and k != f"data:{idp3}" for k in alerts), alerts

    report = await ldap_repair.reinit(
        watched.manager,
        watched.cluster,
        idp3,
        watched.fqdn("idp1"),
        approve=lambda _: True,
    )
    assert report.ok, json.dumps(report.as_dict(), indent=1)
    repaired = time.monotonic()
    await watched.until("data repaired", lambda a: f"data:{idp3}" not in a, repaired)
    await watched.healthy()
