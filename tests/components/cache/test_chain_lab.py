"""The cache chain in the lab: applied end to end, idempotent, guarded against bad files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio

from cachelab import (
    cache_config,
    cache_lab,
    chain_status,
    configure,
    eventually_config,
    outcomes,
    wait_chain_ok,
)
from clustermgr.components.cache import plan as cache_plan
from clustermgr.components.cache import status as cachestatus
from clustermgr.components.cache.desired import cache_layout
from clustermgr.components.cache.model import NUTCRACKER_YML, REDIS_SECRET, Provider
from clustermgr.core.manager import Manager
from clustermgr.facts.services import ServiceControl
from clustermgr.pki.ca import Ca, new_key_pem, self_signed
from clustermgr.pki.sign import sign_csr
from clustermgr.plan.events import Event
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import Outcome, Plan
from clustermgr.redact import Secret
from labfixture import Lab

# A loop of this module's own: whatever its watcher and load leave behind ends with it.
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with cache_lab(tmp_path_factory.mktemp("cache-lab")) as running:
        yield running


async def redis_password(lab: Lab) -> Secret:
    manager = await Manager.open(lab.settings)
    try:
        async with manager.store() as store:
            cluster = await store.cluster(lab.config.cluster)
            return await store.cluster_secret(cluster, REDIS_SECRET, lambda: Secret(""))
    finally:
        await manager.close()


async def test_apply_builds_the_chain_and_a_second_apply_changes_nothing(lab: Lab) -> None:
    dry = await configure(lab, dry_run=True)
    assert dry["ok"], json.dumps(dry, indent=1)
    assert set(outcomes(dry)) <= {"would change", "unchanged"}

    events: list[Event] = []
    first = await configure(lab, events=events)
    assert first["ok"], json.dumps(first, indent=1)
    assert outcomes(first).get("changed", 0) > 0

    status = await chain_status(lab)
    assert status.ok, json.dumps(status.as_dict(), indent=1)
    assert status.path is not None and status.path["ok"]
    assert status.pool is not None and not any(s.ejected for s in status.pool.servers)
    assert all(n.redis.get("used_memory") for n in status.nodes)

    second = await configure(lab)
    assert outcomes(second) == {"unchanged": outcomes(second)["unchanged"]}, second

    password = (await redis_password(lab)).reveal()
    text = json.dumps([first, second, status.as_dict()]) + "".join(str(e) for e in events)
    assert password not in text


#: The proxy as an apply of the earlier layout left it: the TLS server an instance of
#: Debian's stunnel4 service, its configuration beside the tunnels'.
_EARLIER_LAYOUT = """\
service clustermgr-twemproxy stop >/dev/null
update-rc.d -f clustermgr-twemproxy remove >/dev/null
rm -f /etc/init.d/clustermgr-twemproxy
mv /etc/stunnel/held/clustermgr-twemproxy.conf /etc/stunnel/
service stunnel4 start >/dev/null
"""


async def test_a_proxy_of_the_earlier_layout_moves_to_the_held_server_on_apply(lab: Lab) -> None:
    """Before the proxy's TLS server had its own service it was a stunnel4 instance:
    an apply stops that instance, removes its file and starts the service, whose
    listener is then the one the launcher bound (stunnel's descriptor 3)."""
    await lab.sh("proxy1", _EARLIER_LAYOUT)
    before = await lab.sh("proxy1", "ss -Hltnp 'sport = :8888'")
    assert "stunnel4" in before and "fd=3)" not in before, before
    report = await configure(lab)
    assert report["ok"], json.dumps(report, indent=1)
    assert outcomes(report).get("changed") == 1, outcomes(report)
    after = await lab.sh(
        "proxy1",
        "ls /etc/stunnel; service clustermgr-twemproxy status && echo running; "
        "ss -Hltnp 'sport = :8888'",
    )
    assert "clustermgr-twemproxy.conf" not in after.split("running")[0], after
    assert "running" in after and after.count("stunnel4") == 1 and "fd=3)" in after, after
    status = await chain_status(lab)
    assert status.ok, json.dumps(status.as_dict(), indent=1)
    assert outcomes(await configure(lab)).keys() == {"unchanged"}


async def test_redis_listens_on_localhost_only_and_needs_its_password(lab: Lab) -> None:
    for node in ("idp1", "idp2"):
        listening = await lab.sh(node, "ss -Hltn 'sport = :6379' | awk '{print $4}'")
        assert set(listening.split()) <= {"127.0.0.1:6379", "[::1]:6379"}, listening
        answer = await lab.sh(node, "redis-cli -h 127.0.0.1 ping 2>&1 || true")
        assert "NOAUTH" in answer, answer
    # twemproxy's stats answer on localhost only
    stats = await lab.sh("proxy1", "ss -Hltn 'sport = :22222' | awk '{print $4}'")
    assert stats.split() == ["127.0.0.1:22222"], stats


async def test_the_configuration_reaches_every_node_by_replication(lab: Lab) -> None:
    for node in ("idp1", "idp2"):
        await eventually_config(lab, node, "REDIS")
        config = await cache_config(lab, node)
        assert config["redisConfiguration"]["servers"] == "localhost:7000"
        assert config["redisConfiguration"]["redisProviderType"] == "STANDALONE"
        # every other setting the identity server had is kept
        assert "nativePersistenceConfiguration" in config


async def test_an_invalid_nutcracker_yml_never_replaces_the_running_one(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        layout = await cache_layout(manager, lab.config.cluster)
    finally:
        await manager.close()
    step = cache_plan.twemproxy_step(layout, ServiceControl("sysv"))
    broken = tuple(
        replace(f, content=f.content.replace(b"  listen:", b"  listen"))
        if f.path == NUTCRACKER_YML
        else f
        for f in step.files
    )
    before = await lab.sh("proxy1", f"sha256sum {NUTCRACKER_YML}; cat /run/nutcracker/*.pid")
    async with lab.access() as access:
        report = await Executor(access.connection).apply(
            Plan("broken", (replace(step, files=broken),))
        )
    [result] = report.results[layout.proxy]
    assert result.outcome is Outcome.FAILED, result
    assert "nutcracker.yml" in result.reason or "valid" in result.reason, result
    after = await lab.sh("proxy1", f"sha256sum {NUTCRACKER_YML}; cat /run/nutcracker/*.pid")
    assert after == before
    await wait_chain_ok(lab)


async def test_a_peer_with_a_certificate_from_another_ca_is_refused_and_reported(
    lab: Lab,
) -> None:
    """The proxy's certificate re-signed by a stranger CA: every node refuses it, status
    reports the broken hops, and an apply puts the cluster CA's certificate back."""
    csr = await lab.sh("proxy1", "cat /etc/stunnel/tls/node.csr")
    key = new_key_pem()
    stranger = Ca(self_signed(key, "someone else's CA"), key)
    forged = sign_csr(stranger, csr, hostname="proxy1.lab.test")
    await lab.sh(
        "proxy1",
        'printf "%s" "$1" > /etc/stunnel/tls/node.pem; service stunnel4 restart >/dev/null',
        forged,
    )
    status = await chain_status(lab)
    assert not status.ok
    assert status.path is not None and not status.path["ok"]
    tunnels = [n.hop(cachestatus.NODE_TUNNEL) for n in status.nodes]
    assert all(h is not None and not h.up for h in tunnels), status.as_dict()
    assert any("stunnel tunnel (:7777) is down" in p for p in status.problems), status.problems
    log = await lab.sh("idp1", "cat /var/log/stunnel4/clustermgr-redis.log")
    assert "certificate verify failed" in log or "Rejected by CERT" in log, log[-2000:]

    repaired = await configure(lab)
    assert repaired["ok"], json.dumps(repaired, indent=1)
    assert outcomes(repaired).get("changed") == 1
    await wait_chain_ok(lab)


async def test_reverting_to_ldap_sessions_and_back(lab: Lab) -> None:
    reverted = await configure(lab, provider=Provider.NATIVE_PERSISTENCE)
    assert reverted["ok"], json.dumps(reverted, indent=1)
    assert outcomes(reverted) == {"changed": 1}
    for node in ("idp1", "idp2"):
        await eventually_config(lab, node, "NATIVE_PERSISTENCE")
    again = await configure(lab)
    assert outcomes(again) == {"changed": 1, "unchanged": outcomes(again)["unchanged"]}
    await eventually_config(lab, "idp2", "REDIS")
