"""The guided deploy on the lab: its plan as a job, the deploy applied from it, a second
deploy all unchanged, a stage that fails stopping it, and ``clustermgr cluster deploy``.

The tests run in order on a lab of the module's own (a deploy changes every server,
which the session's lab keeps as booted for the other tests), which starts with its
servers registered and nothing deployed.  On it, every stage's plan works before the
earlier stages are applied (the lab's nodes already run their directory and web
server), so no stage waits; the tests of :mod:`clustermgr.jobs.deploy` cover a stage
that does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cli_runner import Cli
from clustermgr.components import registry
from clustermgr.components.contract import deploy_stages
from clustermgr.core.manager import Manager
from clustermgr.jobs import stages, store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import JobView
from clustermgr.web.pages import present
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

KINDS = registry.job_kinds()
STAGES = deploy_stages(registry.COMPONENTS)
NAMES = [s.name for s in STAGES]


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("deploy-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        yield running


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    yield opened
    await opened.close()


async def run(manager: Manager, lab: Lab, kind: str, **params: Any) -> JobView:
    job = await store.create(
        manager,
        kind=kind,
        cluster=lab.config.cluster,
        mutating=KINDS.get(kind).mutating,
        user="tester",
        params=params,
        runner="embedded",
    )
    await execute(manager, KINDS, job.id)
    return await store.get(manager, job.id)


def statuses(job: JobView) -> list[tuple[str, str]]:
    assert job.result is not None, job.error
    return [(s["name"], s["status"]) for s in job.result["stages"]]


def test_every_change_is_a_stage_in_registry_order() -> None:
    assert NAMES == ["install", "files", "base", "ldap", "cache", "lb", "metrics", "logs"]


async def test_a_stage_that_fails_stops_the_deploy(manager: Manager, lab: Lab) -> None:
    lab.partition("idp2")
    try:
        job = await run(manager, lab, "deploy")
    finally:
        lab.heal("idp2")
    assert job.state is JobState.FAILED
    assert statuses(job) == [
        ("install", "failed"),  # idp2 cannot be reached: every later stage needs it
        ("files", "not run"),
        ("base", "not run"),
        ("ldap", "not run"),
        ("cache", "not run"),
        ("lb", "not run"),
        ("metrics", "not run"),
        ("logs", "not run"),
    ]
    assert job.result is not None
    first, *rest = job.result["stages"]
    assert "idp2.lab.test" in first["note"]
    assert all(s["note"] == "Gluu Server install failed before it" for s in rest)
    board = await stages.load(manager, lab.config.cluster, STAGES)
    assert [r.state.value for r in board.rows[2:]] == ["failed"] + ["not started"] * 7


async def test_plan_then_deploy_what_was_reviewed_then_again_unchanged(
    manager: Manager, lab: Lab
) -> None:
    check = await run(manager, lab, "preflight")
    assert check.state is JobState.SUCCEEDED, check.result
    plan = await run(manager, lab, "deploy-plan")
    assert plan.state is JobState.SUCCEEDED, plan.error
    assert statuses(plan) == [(n, "planned") for n in NAMES]
    assert plan.result is not None
    # The install has nothing to do here, nor the cluster files (the install wrote them).
    for section in plan.result["stages"][2:]:
        assert section["report"]["counts"]["would change"] > 0, section["name"]
    report = present.report_view(plan.result)
    assert report is not None and present.can_apply(plan, report, KINDS)
    assert present.applied_by(plan, KINDS) == "deploy"
    board = await stages.load(manager, lab.config.cluster, STAGES)
    assert board.next is not None and board.next.label == f"Review plan #{plan.id}"

    done = await run(manager, lab, "deploy", plan_job=plan.id, plan_digest=report.digest)
    assert done.state is JobState.SUCCEEDED, (done.error, done.result and done.result["stages"])
    assert statuses(done) == [(n, "applied") for n in NAMES]
    assert done.result is not None and done.result["counts"]["changed"] > 0

    again = await run(manager, lab, "deploy")
    assert again.state is JobState.SUCCEEDED
    assert again.result is not None
    assert again.result["counts"]["changed"] == 0 and again.result["counts"]["unchanged"] > 0
    for section in again.result["stages"]:
        assert section["report"]["counts"]["changed"] == 0, section["name"]

    board = await stages.load(manager, lab.config.cluster, STAGES)
    assert [r.state.value for r in board.rows[2:]] == ["applied"] * len(NAMES)
    assert board.next is None, "every stage done"


async def test_the_cli_deploys_what_differs(lab: Lab) -> None:
    cli = Cli(lab.settings.data_dir)
    cluster = lab.config.cluster
    begin, end = f"# BEGIN clustermgr cluster {cluster}", f"# END clustermgr cluster {cluster}"
    await lab.sh("proxy1", 'sed -i "/^$1$/,/^$2$/d" /etc/hosts', begin, end)

    asked = cli("cluster", "deploy", cluster)
    assert asked.code == 2 and "confirm with --yes" in asked.stderr
    assert "stage 3: Base preparation: planned" in asked.stderr, "the plan asked about"
    assert asked.stdout == "", "no result: nothing was deployed"
    assert "stage 3/8: planning Base preparation" in asked.stderr, "progress on stderr"

    ran = cli("cluster", "deploy", cluster, "--yes", "--json")
    assert ran.code == 0, ran.stderr
    result = ran.json()
    assert result["dry_run"] is False and result["ok"] is True
    changed = {s["name"]: s["report"]["counts"]["changed"] for s in result["stages"]}
    assert changed["base"] >= 1
    assert changed["ldap"] == changed["cache"] == changed["lb"] == changed["metrics"] == 0
    assert changed["logs"] == changed["files"] == 0
    assert [s["status"] for s in result["stages"]] == ["applied"] * len(NAMES)

    quiet = cli("cluster", "deploy", cluster, "--json")
    assert quiet.code == 0, quiet.stderr
    assert quiet.json()["counts"]["would change"] == 0, "nothing left: nothing asked"

    lab.partition("idp2")
    try:
        failed = cli("cluster", "deploy", cluster, "--yes", "--json")
    finally:
        lab.heal("idp2")
    assert failed.code == 1
    assert failed.json()["stages"][1]["status"] == "failed"
