"""The SSE formatter shared by the GUI and the API: frames, resuming, keep-alive, done."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from clustermgr.errors import NotFound
from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.plan.events import Event, EventKind
from clustermgr.services import clusters
from clustermgr.web import sse
from clustermgr.web.context import WebContext
from webfixture import FreshWeb


def test_a_frame_is_event_id_and_one_line_of_json() -> None:
    text = sse.frame("step", {"message": "two\nlines"}, event_id=7)
    assert text == 'event: step\nid: 7\ndata: {"message":"two\\nlines"}\n\n'
    assert sse.frame("done", {}) == "event: done\ndata: {}\n\n"
    assert sse.comment() == ": keep-alive\n\n"


async def test_a_stream_keeps_alive_then_ends_with_done(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    manager = web.manager
    await clusters.create_cluster(manager, "quiet")
    # A job no runner picks up: it stays queued until the test finishes it.
    job = await store.create(
        manager,
        kind="plan",
        cluster="quiet",
        mutating=False,
        user="admin",
        params={},
        runner="none",
    )
    await store.append_events(
        manager, job.id, 1, [Event(EventKind.PLAN_STARTED, f"event {n}") for n in (1, 2, 3)]
    )
    stream = await sse.job_stream(manager, job.id, after=1, keep_alive=0.2, poll=0.05)
    frames = [await anext(stream) for _ in range(2)]
    assert [f.split("\n")[:2] for f in frames] == [
        ["event: step", "id: 2"],
        ["event: step", "id: 3"],
    ]
    assert json.loads(frames[0].split("data: ")[1])["message"] == "event 2"
    assert await asyncio.wait_for(anext(stream), 5) == sse.comment()

    await store.finish(manager, job.id, JobState.SUCCEEDED, result={"ok": True})
    rest = [frame async for frame in stream]
    done = [f for f in rest if f.startswith("event: done")]
    assert len(done) == 1 and rest[-1] == done[0]
    job_data = json.loads(done[0].split("data: ")[1])
    assert job_data["state"] == "succeeded"
    assert datetime.fromisoformat(job_data["created_at"]).tzinfo, "times carry their offset"


async def test_an_unknown_job_fails_before_the_stream_starts(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    with pytest.raises(NotFound):
        await sse.job_stream(web.manager, 424242)
