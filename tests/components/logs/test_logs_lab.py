"""The logs stage on the session lab (Gluu Server installed): the plan would change
every server, the apply puts the follower on every server and sets slapd's log level
to ``stats`` on the identity nodes, and the plan after it is empty.  What it changed is
put back afterwards (the lab is shared)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import pytest

import logslab
from clustermgr.components.logs import apply as logs
from clustermgr.components.logs.program import FOLLOWER_PATH, follower_source
from clustermgr.components.logs.settingsstore import applied_clusters
from clustermgr.core.manager import Manager
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.remote.command import Command
from clustermgr.remote.stream import open_stream
from clustermgr.topology import Role
from labfixture import Lab
from logslab import LOG_LEVEL

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def put_back(lab: Lab) -> AsyncIterator[None]:
    """After the module: slapd's log levels as they were, no follower, no applied mark."""
    before = await logslab.slapd_levels(lab)
    yield
    await logslab.put_back(lab, before)


@pytest.fixture
async def manager(lab: Lab, put_back: None) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        yield opened
    finally:
        await opened.close()


async def run(manager: Manager, lab: Lab, *, dry_run: bool) -> ApplyReport:
    return await logs.apply(manager, lab.config.cluster, dry_run=dry_run, actor="tester")


def outcomes(report: ApplyReport) -> dict[tuple[str, str], Outcome]:
    return {(host, r.title): r.outcome for host, rs in report.results.items() for r in rs}


async def test_plan_apply_then_nothing_left_to_do(manager: Manager, lab: Lab) -> None:
    hosts = lab.config.hosts()
    identity = [h for h in hosts if h.role is Role.IDENTITY]
    wanted = {(h.fqdn, "install the log follower") for h in hosts} | {
        (h.fqdn, "set slapd's log level") for h in identity
    }

    plan = await run(manager, lab, dry_run=True)
    assert plan.ok, plan.results
    assert set(outcomes(plan)) == wanted
    assert set(outcomes(plan).values()) == {Outcome.WOULD_CHANGE}
    assert await applied_clusters(manager) == [], "a plan marks nothing"

    done = await run(manager, lab, dry_run=False)
    assert done.ok, done.results
    assert set(outcomes(done).values()) == {Outcome.CHANGED}
    assert lab.config.cluster in await applied_clusters(manager)

    digest = hashlib.sha256(follower_source()).hexdigest()
    for host in hosts:
        shown = await lab.sh(host.name, 'sha256sum "$1"; stat -c %a "$1"', FOLLOWER_PATH)
        assert shown.split() == [digest, FOLLOWER_PATH, "644"], host.name
    for host in identity:
        assert (await lab.sh(host.name, LOG_LEVEL)).split() == ["stats"], host.name

    again = await run(manager, lab, dry_run=True)
    assert again.ok, again.results
    assert set(outcomes(again).values()) == {Outcome.UNCHANGED}

    # The manager runs the follower it put there over the server's connection: it beats
    # and ends when its stdin closes.
    config = {"sources": [], "beat_seconds": 1}
    async with lab.access() as access:
        conn = await access.connection(lab.host("proxy1").fqdn)
        lines = await open_stream(
            conn, Command.of("python3", FOLLOWER_PATH), json.dumps(config).encode() + b"\n"
        )
        try:
            first = await lines.readline(15)
            assert first is not None and json.loads(first)["t"] == "beat"
        finally:
            await lines.close()
        assert lines.exit_status == 0, lines.stderr_tail
