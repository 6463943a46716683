"""A job's page tells the truth: a failed job is red wherever it shows its state, and a
job that ran plans says how many of their steps ran."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.plan.timing import StepTiming
from clustermgr.services import clusters
from clustermgr.web.context import WebContext
from webfixture import FreshWeb, client, sign_in

pytestmark = pytest.mark.integration

HOST = "idp1.lab.test"


def _result(step: str, outcome: Outcome, reason: str) -> StepResult:
    return StepResult(step, HOST, step, outcome, reason)


async def _recorded_job(web: WebContext, events: list[Event], report: ApplyReport) -> int:
    """A job as a runner leaves it: claimed, its events stored, finished by its report."""
    manager = web.manager
    await clusters.create_cluster(manager, "red")
    job = await store.create(
        manager,
        kind="cache-apply",
        cluster="red",
        mutating=True,
        user="admin",
        params={},
        runner="none",
    )
    assert await store.claim(manager, job.id)
    await store.append_events(manager, job.id, 1, events)
    state = JobState.SUCCEEDED if report.ok else JobState.FAILED
    await store.finish(manager, job.id, state, result=report.as_dict())
    return job.id


def _spans(html: str, cls: str) -> list[str]:
    return re.findall(rf'class="[^"]*\b{cls}\b[^"]*"[^>]*>([^<]*)<', html)


async def test_a_failed_job_page_is_red_and_says_how_far_it_got(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    report = ApplyReport(
        "the cache",
        False,
        {
            HOST: [
                _result("redis", Outcome.UNCHANGED, "already running"),
                _result("stunnel", Outcome.FAILED, "`systemctl start stunnel` exited with 1"),
                _result("twemproxy", Outcome.SKIPPED, "an earlier step on this host failed"),
            ]
        },
    )
    events = [
        Event(EventKind.PLAN_STARTED, "apply the cache of cluster red"),
        Event(EventKind.PLAN_STARTED, "applying the cache: 3 steps", done=0, planned=3),
        Event(EventKind.STEP_FINISHED, "redis: unchanged", HOST, "redis", Outcome.UNCHANGED, done=1, planned=3),
        Event(EventKind.STEP_FINISHED, "stunnel: failed", HOST, "stunnel", Outcome.FAILED, done=2, planned=3),
        Event(EventKind.PLAN_FINISHED, "the cache: 1 unchanged, 1 failed, 1 skipped"),
    ]  # fmt: skip
    job_id = await _recorded_job(web, events, report)
    async with client(app=fresh_web.app) as http:
        await sign_in(http)
        html = (await http.get(f"/jobs/{job_id}")).text
        stream = (await http.get(f"/jobs/{job_id}/events")).text

    assert _spans(html, "state-failed") == ["failed", "Finished: failed."], "badge and marker"
    marker = re.search(r'<p id="job-done"[^>]*class="([^"]*)"[^>]*>([^<]*)<', html)
    assert marker and marker.groups() == ("done-marker state-failed", "Finished: failed.")
    assert "state-succeeded" not in html and "check-pass" not in html
    assert _spans(html, "outcome-failed") == ["1 failed", "failed", ""], "count, step, log line"
    assert "1 step failed and 1 was skipped: the reasons are below." in html
    assert re.search(r'<progress max="3" value="2"', html)
    assert "2 of 3 steps done" in html, "the final count: the skipped step never ran"

    frames = [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: ")]
    counted = [(f["kind"], f.get("done"), f.get("planned")) for f in frames if "seq" in f]
    assert counted[1:4] == [
        ("plan_started", 0, 3),
        ("step_finished", 1, 3),
        ("step_finished", 2, 3),
    ]
    assert counted[0] == ("plan_started", None, None)


async def test_events_stored_without_counts_show_no_progress(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    report = ApplyReport("the cache", False, {HOST: [_result("redis", Outcome.CHANGED, "set")]})
    events = [
        Event(EventKind.PLAN_STARTED, "applying the cache: 1 steps"),
        Event(EventKind.STEP_FINISHED, "redis: changed", HOST, "redis", Outcome.CHANGED),
    ]
    job_id = await _recorded_job(web, events, report)
    async with client(app=fresh_web.app) as http:
        await sign_in(http)
        html = (await http.get(f"/jobs/{job_id}")).text
    assert re.search(r'<p id="job-progress"[^>]*hidden>', html)
    assert "steps done" not in html
    assert "done-marker state-succeeded" in html and "redis: changed" in html


async def test_the_job_page_shows_where_the_time_went(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    slow = replace(
        _result("redis", Outcome.CHANGED, "set"),
        duration=2.5,
        timing=StepTiming(turn_wait=1.25, connect=0.5, round_trips=4, ssh=2.0),
    )
    quick = replace(_result("stunnel", Outcome.UNCHANGED, "ok"), duration=0.25)
    report = ApplyReport("the cache", False, {HOST: [quick, slow]})
    job_id = await _recorded_job(web, [], report)
    async with client(app=fresh_web.app) as http:
        await sign_in(http)
        html = (await http.get(f"/jobs/{job_id}")).text
    assert '<h2 id="timing">Timing</h2>' in html
    totals = re.search(r'<p id="timing-totals">([^<]*)</p>', html)
    assert totals and totals.group(1) == (
        "Steps: 2.75 s; waiting for rolling turns: 1.25 s; "
        "SSH: 4 round trips in 2.00 s, connecting 0.50 s."
    )
    table = html[html.index('id="timing-slowest"') : html.index('id="timing-hosts"')]
    slowest = re.findall(
        r'<th scope="row">([^<]*)</th>(?:<td>[^<]*</td>){2}<td>([^<]*)</td>', table
    )
    assert slowest == [("redis", "2.50"), ("stunnel", "0.25")], "slowest first"
    hosts = html[html.index('id="timing-hosts"') :]
    row = re.search(rf'<th scope="row">{re.escape(HOST)}</th>((?:<td>[^<]*</td>)+)</tr>', hosts)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group(1)) == [
        "2.75 s", "1.25 s", "4", "2.00 s", "0.50 s",
    ]  # fmt: skip
