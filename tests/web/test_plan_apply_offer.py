"""Every component's plan page offers its apply: the offer follows the kind's
``applied_by`` (declared once, by the component contract), never a kind's name.

Each case records a finished plan job of one registered component, with the result its
executor would keep, in the app's own database, and reads the job's page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from clustermgr.components.contract import Component
from clustermgr.components.registry import COMPONENTS
from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.plan.model import ApplyReport, FileDiff, Outcome, StepResult
from clustermgr.services import clusters
from webfixture import FreshWeb, client, sign_in

PLANNED = [c for c in COMPONENTS if c.plan is not None and c.apply is not None]


def plan_result() -> dict[str, object]:
    step = StepResult(
        "h1:write-a-file",
        "h1.example.test",
        "write a file",
        Outcome.WOULD_CHANGE,
        "it differs",
        diffs=(FileDiff("/etc/a", "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n", False),),
    )
    return ApplyReport("p", True, {"h1.example.test": [step]}).as_dict()


async def finished_job(manager: Manager, kind: str, *, mutating: bool) -> int:
    """A job of ``kind`` on cluster c1 that succeeded with :func:`plan_result`."""
    job = await store.create(
        manager,
        kind=kind,
        cluster="c1",
        mutating=mutating,
        user="admin",
        params={},
        runner="embedded",
    )
    await store.finish(manager, job.id, JobState.SUCCEEDED, result=plan_result())
    return job.id


@pytest.fixture
async def manager(fresh_web: FreshWeb) -> AsyncIterator[Manager]:
    opened = await Manager.open(fresh_web.settings)
    await clusters.create_cluster(opened, "c1")
    yield opened
    await opened.close()


@pytest.fixture
async def gui(fresh_web: FreshWeb) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=fresh_web.app) as http:
        await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
        yield http


def test_every_component_with_a_change_is_covered() -> None:
    assert len(PLANNED) >= 4, [c.name for c in PLANNED]


@pytest.mark.parametrize("component", PLANNED, ids=lambda c: c.name)
async def test_the_plan_page_offers_the_components_apply(
    component: Component, manager: Manager, gui: httpx.AsyncClient
) -> None:
    assert component.plan is not None and component.apply is not None
    job_id = await finished_job(manager, component.plan.name, mutating=False)
    html = (await gui.get(f"/jobs/{job_id}")).text
    assert 'id="apply-button"' in html, component.name
    assert "Yes, change these 1 step on cluster c1" in html
    assert f'action="/jobs/{job_id}/apply"' in html


async def test_a_finished_apply_offers_no_apply(manager: Manager, gui: httpx.AsyncClient) -> None:
    component = PLANNED[0]
    assert component.apply is not None
    job_id = await finished_job(manager, component.apply.name, mutating=True)
    html = (await gui.get(f"/jobs/{job_id}")).text
    assert 'id="apply-button"' not in html and "Apply these changes" not in html
