"""The cluster files on a lab of its own: sealed at install and equal to every node's;
a file changed by hand on one node is named by the status and opens its alert; the
apply writes the sealed copy back, the plan is then empty and the alert resolves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cli_runner import Cli, Ran
from clustermgr.components import registry
from clustermgr.components.files import apply as files
from clustermgr.components.files.model import drift_key
from clustermgr.components.files.status import status
from clustermgr.components.files.watch import FilesWatch
from clustermgr.core.manager import Manager
from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.plan.model import Outcome
from clustermgr.services import clusterfiles
from clustermgr.services.clusterfiles import SealedFile
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

CERT = "/etc/certs/httpd.crt"
KEY = "/etc/certs/httpd.key"
KEYSTORE = "/etc/certs/oxauth-keys.json"
NODES = ("idp1", "idp2")


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own: the session's lab is watched by the web app the web tests serve,
    whose watcher holds the ``files`` lease this test's watcher needs."""
    prefix, subnet = SLOT.spare()
    async with running_lab(
        tmp_path_factory.mktemp("files-lab"), prefix=prefix, subnet=subnet
    ) as running:
        yield running


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        yield opened
    finally:
        await opened.close()


async def sealed(manager: Manager, cluster: str) -> dict[str, SealedFile]:
    async with manager.store() as store:
        kept = await clusterfiles.sealed(store, await store.cluster(cluster))
    assert kept is not None, "the install sealed the first node's files"
    return kept


async def files_cycle(manager: Manager, cluster: str) -> CycleReport:
    watcher = Watcher(manager, [FilesWatch(manager)], kinds=registry.job_kinds(), cluster=cluster)
    try:
        reports = [r for r in await watcher.cycle() if r.component == "files"]
    finally:
        await watcher.close()
    assert len(reports) == 1 and reports[0].watched, reports
    return reports[0]


async def cli(lab: Lab, *args: str) -> Ran:
    return await asyncio.to_thread(Cli(Path(lab.settings.data_dir), verbose=False), *args)


def secret_lines(kept: dict[str, SealedFile]) -> list[str]:
    """The lines of the secret files' content long enough to recognise in a report."""
    return [
        line.strip()
        for f in kept.values()
        if f.spec.secret
        for line in f.content.decode(errors="replace").splitlines()
        if len(line.strip()) >= 16
    ]


async def test_a_file_changed_by_hand_is_named_alerted_and_written_back(
    lab: Lab, manager: Manager
) -> None:
    cluster = lab.config.cluster
    kept = await sealed(manager, cluster)
    assert {KEY, CERT} <= set(kept)
    for name in NODES:
        for path, copy in kept.items():
            there = await lab.sh(name, 'sha256sum < "$1" | cut -c1-64', path)
            assert there.strip() == copy.sha256, f"{name}:{path} is not the sealed copy"
    before = await status(manager, cluster)
    assert before.ok, json.dumps(before.as_dict(), indent=1)
    assert (await files_cycle(manager, cluster)).opened == []

    target = KEYSTORE if KEYSTORE in kept else CERT
    node = lab.host("idp2").fqdn
    await lab.sh("idp2", 'printf "\\n" >> "$1"', target)
    try:
        drifted = await status(manager, cluster)
        assert not drifted.ok and drifted.drifted == [(node, target)]
        cycle = await files_cycle(manager, cluster)
        assert [a.key for a in cycle.opened] == [drift_key(node, target)]
        assert (await status(manager, cluster)).open_alerts[0].key == drift_key(node, target)
        said = await cli(lab, "files", "status", cluster)
        assert said.code == 1 and node in said.stdout and "differs" in said.stdout, said
        assert drift_key(node, target) in (await cli(lab, "files", "alerts", cluster)).stdout

        plan = await files.apply(manager, cluster, dry_run=True)
        changing = [r for r in plan.all() if r.outcome is Outcome.WOULD_CHANGE]
        assert [(r.host, r.title) for r in changing] == [(node, f"write {target}")]
        shown = json.dumps(plan.as_dict())
        assert not [line for line in secret_lines(kept) if line in shown]

        applied = await files.apply(manager, cluster, dry_run=False, actor="tester")
        assert applied.ok and applied.count(Outcome.CHANGED) == 1, applied.as_dict()
    finally:
        await files.apply(manager, cluster, dry_run=False, actor="tester")
    again = await files.apply(manager, cluster, dry_run=True)
    assert again.count(Outcome.WOULD_CHANGE) == 0
    assert (await status(manager, cluster)).ok
    final = await cli(lab, "files", "status", cluster, "--json")
    assert final.code == 0 and final.json()["drifted"] == []
    resolved = await files_cycle(manager, cluster)
    assert [a.key for a in resolved.resolved] == [drift_key(node, target)]
