"""Every registered job kind runs through the job executor and ends in a state the GUI can show.

The cases iterate the catalog (:func:`registry.job_kinds`), so a new kind is covered
as soon as its component declares it.  Each job is created with
:func:`clustermgr.jobs.store.create` and run by :func:`clustermgr.jobs.execute.execute`,
the code the manager and the queue workers share.  A job ends either SUCCEEDED or
FAILED with a result whose ``ok`` is a boolean, or FAILED with an error message (refused
input, a cluster the kind cannot work on); never with an internal error.

What each case proves, and why it leaves the shared session lab usable:

- read-only kinds (``mutating=False``) run fully against the lab's cluster: they read
  the servers and change nothing, whatever state earlier tests left the lab in;
- mutating kinds run fully against a cluster of the test's own with no servers (its
  required params name a host that is not in it): the kind's own code decides, and
  no server can be reached, so the lab is untouched;
- every kind refuses params it does not know, and a kind with required params refuses
  none (``ldap-reinit`` without a node): the job fails with an error naming the kind,
  before its code runs.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from clustermgr.components import registry
from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.jobs import store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import JobKind
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import JobView
from clustermgr.services import clusters
from labfixture import Lab

pytestmark = pytest.mark.integration

KINDS = registry.job_kinds()
READ_ONLY = [kind for kind in KINDS if not kind.mutating]
MUTATING = [kind for kind in KINDS if kind.mutating]
WITH_REQUIRED = [kind for kind in KINDS if kind.params.model_json_schema().get("required")]
#: A host no cluster has (``.invalid`` never resolves).
ABSENT_HOST = "absent.invalid"


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    yield opened
    await opened.close()


@pytest.fixture
async def empty_cluster(manager: Manager) -> AsyncIterator[str]:
    """A cluster with no servers, removed afterwards."""
    name = f"kinds-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(manager, name)


def required_params(kind: JobKind[Any]) -> dict[str, Any]:
    """The kind's required params, each naming a host no cluster has."""
    schema = kind.params.model_json_schema()
    fields = schema.get("properties", {})
    params: dict[str, Any] = {}
    for name in schema.get("required", []):
        assert fields[name].get("type") == "string", f"{kind.name}.{name}: give it a value here"
        params[name] = ABSENT_HOST
    return params


async def run(
    manager: Manager, kind: JobKind[Any], cluster: str, params: dict[str, Any]
) -> JobView:
    job = await store.create(
        manager,
        kind=kind.name,
        cluster=cluster,
        mutating=kind.mutating,
        user="tester",
        params=params,
        runner="embedded",
    )
    state = await execute(manager, KINDS, job.id)
    done = await store.get(manager, job.id)
    assert state is done.state, "execute returns the state it recorded"
    return done


def assert_well_ended(job: JobView) -> None:
    """SUCCEEDED/FAILED with a boolean ``ok``, or FAILED with an error message."""
    assert job.state in (JobState.SUCCEEDED, JobState.FAILED), (job.kind, job.state, job.error)
    if job.result is not None:
        assert isinstance(job.result.get("ok"), bool), (job.kind, job.result)
        assert job.state is (JobState.SUCCEEDED if job.result["ok"] else JobState.FAILED)
    else:
        assert job.state is JobState.FAILED and job.error, (job.kind, job.error)
        assert not job.error.startswith("internal error"), (job.kind, job.error)


def test_catalog_has_both_sorts() -> None:
    assert READ_ONLY and MUTATING, "the cases below cover both"


@pytest.mark.parametrize("kind", READ_ONLY, ids=lambda k: k.name)
async def test_read_only_kind_runs_on_the_lab(
    manager: Manager, lab: Lab, kind: JobKind[Any]
) -> None:
    params = required_params(kind)
    job = await run(manager, kind, lab.config.cluster, params)
    assert_well_ended(job)


@pytest.mark.parametrize("kind", MUTATING, ids=lambda k: k.name)
async def test_mutating_kind_runs_on_a_cluster_without_servers(
    manager: Manager, empty_cluster: str, kind: JobKind[Any]
) -> None:
    job = await run(manager, kind, empty_cluster, required_params(kind))
    assert_well_ended(job)


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda k: k.name)
async def test_unknown_params_are_refused(
    manager: Manager, empty_cluster: str, kind: JobKind[Any]
) -> None:
    job = await run(manager, kind, empty_cluster, {**required_params(kind), "bogus": 1})
    assert job.state is JobState.FAILED and job.result is None
    assert job.error and f"invalid params for {kind.name}" in job.error


@pytest.mark.parametrize("kind", WITH_REQUIRED, ids=lambda k: k.name)
async def test_missing_required_params_are_refused(
    manager: Manager, empty_cluster: str, kind: JobKind[Any]
) -> None:
    job = await run(manager, kind, empty_cluster, {})
    assert job.state is JobState.FAILED and job.result is None
    assert job.error and f"invalid params for {kind.name}" in job.error


PLANS = [kind for kind in KINDS if kind.applied_by is not None]


@pytest.mark.parametrize("kind", PLANS, ids=lambda k: k.name)
async def test_a_plan_made_twice_has_one_digest(
    manager: Manager, lab: Lab, kind: JobKind[Any]
) -> None:
    """An apply started from a reviewed plan compares digests: a plan must not differ from
    itself when nothing changed (no timestamps, generated keys or ordering in it)."""
    first = await run(manager, kind, lab.config.cluster, {})
    second = await run(manager, kind, lab.config.cluster, {})
    assert first.result and second.result, (first.error, second.error)
    assert first.result["digest"] == second.result["digest"], kind.name
