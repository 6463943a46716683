"""The exporters on a lab of their own (2 identity nodes and a proxy, Gluu Server
installed): the stages before them deployed, then the metrics apply; every exporter
answers on 127.0.0.1 of its host and on no other address, cn=monitor answers root over
ldapi and nobody on the network, a second apply changes nothing, an exporter that
stopped is started again, and a reboot brings them back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clustermgr.components.contract import deploy_stages
from clustermgr.components.metrics import apply as metrics
from clustermgr.components.metrics import monitordb
from clustermgr.components.metrics import plan as metrics_plan
from clustermgr.components.metrics.exporters import NGINX, NODE, REDIS, Exporter
from clustermgr.components.registry import COMPONENTS
from clustermgr.core.manager import Manager
from clustermgr.jobs.deploy import apply_stages
from clustermgr.jobs.kinds import JobContext, NoParams
from clustermgr.plan.events import ignore
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.topology import Role
from labfixture import SLOT, Lab, eventually, running_lab, tcp_open

pytestmark = pytest.mark.integration

EXPECTED = {"idp1": (NODE, REDIS), "idp2": (NODE, REDIS), "proxy1": (NODE, NGINX)}
#: Prints the metrics an exporter serves on the host itself ($1: its URL).
READ = """python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
"""


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("metrics-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as up:
        manager = await Manager.open(up.settings)
        try:
            ctx = JobContext(manager, up.config.cluster, NoParams(), ignore, lambda: False)
            before = tuple(s for s in deploy_stages(COMPONENTS) if s.name != "metrics")
            done = await apply_stages(ctx, before, None)
            assert done.ok, [(s.name, s.note) for s in done.stages]
        finally:
            await manager.close()
        yield up


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        yield opened
    finally:
        await opened.close()


async def apply(manager: Manager, lab: Lab, *, dry_run: bool = False) -> ApplyReport:
    return await metrics.apply(manager, lab.config.cluster, dry_run=dry_run, actor="tester")


def outcomes(report: ApplyReport, host: str) -> dict[str, Outcome]:
    return {r.title: r.outcome for r in report.results[host]}


async def metrics_of(lab: Lab, host: str, exporter: Exporter) -> str:
    return await lab.sh(host, READ, exporter.url)


async def listening(lab: Lab, host: str, exporter: Exporter) -> list[str]:
    out = await lab.sh(host, "ss -Hltn \"sport = :$1\" | awk '{print $4}'", str(exporter.port.port))
    return sorted(out.split())


async def test_the_plan_before_the_apply_would_change_every_server(
    manager: Manager, lab: Lab
) -> None:
    plan = await apply(manager, lab, dry_run=True)
    assert plan.ok and sorted(plan.results) == sorted(lab.host(n).fqdn for n in EXPECTED)
    for name, exporters in EXPECTED.items():
        titles = outcomes(plan, lab.host(name).fqdn)
        for exporter in exporters:
            assert titles[f"run {exporter.package}"] is Outcome.WOULD_CHANGE, name
        if name.startswith("idp"):
            assert titles["enable slapd's cn=monitor"] is Outcome.WOULD_CHANGE, name
    redis_file = next(
        d for r in plan.results[lab.host("idp1").fqdn] for d in r.diffs if "password" in d.path
    )
    password = await lab.sh("idp1", "sed -n 's/^requirepass //p' /etc/redis/redis.conf")
    assert password.strip() and password.strip() not in redis_file.diff, "masked"


async def test_apply_runs_every_exporter_on_loopback_only_then_again_unchanged(
    manager: Manager, lab: Lab
) -> None:
    report = await apply(manager, lab)
    assert report.ok, [(r.host, r.title, r.reason, r.stderr_tail) for r in report.all()]
    for name, exporters in EXPECTED.items():
        for exporter in exporters:
            text = await metrics_of(lab, name, exporter)
            assert any(line.startswith(exporter.up_line) for line in text.splitlines()), name
            assert await listening(lab, name, exporter) == [exporter.listen]
            assert not tcp_open(lab.host(name).address, exporter.port.port)
    for name in ("idp1", "idp2"):
        monitor = await lab.sh(name, "ldapsearch -LLL -Q -Y EXTERNAL -H ldapi:/// -b cn=monitor")
        assert "dn: cn=Monitor" in monitor
        assert "cn=Connections,cn=Monitor" in monitor
        from_proxy = await lab.sh(
            "proxy1",
            'ldapsearch -LLL -x -H "ldap://$1" -b cn=monitor -s base 1.1 2>&1 || true',
            lab.host(name).fqdn,
        )
        assert "dn:" not in from_proxy, "cn=monitor is not readable over the network"

    async with lab.access() as access:  # the planner reads slapd's ACL as it stored it
        node = metrics_plan.Member(lab.host("idp1").fqdn, Role.IDENTITY)
        facts = await metrics.host_facts(access, node)
    assert facts.slapd is not None and monitordb.changes(facts.slapd, facts.static_backends) == ""

    again = await apply(manager, lab)
    assert again.ok and again.count(Outcome.CHANGED) == 0
    assert again.count(Outcome.UNCHANGED) == len(list(again.all()))


async def test_a_stopped_exporter_is_started_again(manager: Manager, lab: Lab) -> None:
    await lab.sh("idp2", "service prometheus-redis-exporter stop >/dev/null")
    state = "service prometheus-redis-exporter status >/dev/null && echo running || echo stopped"
    assert (await lab.sh("idp2", state)).strip() == "stopped"
    report = await apply(manager, lab)
    assert report.ok
    changed = [(r.host, r.title) for r in report.all() if r.outcome is Outcome.CHANGED]
    assert changed == [(lab.host("idp2").fqdn, f"run {REDIS.package}")]
    assert "redis_up 1" in await metrics_of(lab, "idp2", REDIS)


async def test_the_exporters_come_back_after_a_reboot(lab: Lab) -> None:
    lab.stop("proxy1")
    lab.start("proxy1")
    for exporter in (NODE, NGINX):

        async def up(exporter: Exporter = exporter) -> str:
            return await metrics_of(lab, "proxy1", exporter)

        text = await eventually(up, timeout=60, interval=1, ignore=(Exception,), what="up")
        assert exporter.up_line in text
