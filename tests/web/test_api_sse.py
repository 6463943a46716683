"""The SSE formatter shared by the GUI and the API: frames, resuming, keep-alive, done."""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import datetime

import pytest

from clustermgr.core.manager import Manager
from clustermgr.errors import LimitReached, NotFound
from clustermgr.jobs import store
from clustermgr.jobs.models import JobState
from clustermgr.plan.events import Event, EventKind
from clustermgr.services import clusters
from clustermgr.web import sse
from clustermgr.web.context import WebContext
from webfixture import FreshWeb, client


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
    stream = await sse.job_stream(manager, job.id, user="admin", after=1, keep_alive=0.2, poll=0.05)
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
        await sse.job_stream(web.manager, 424242, user="admin")


async def _queued_job(manager: Manager, cluster: str) -> int:
    """A job no runner picks up: it stays queued, so its stream stays open."""
    await clusters.create_cluster(manager, cluster)
    job = await store.create(
        manager,
        kind="plan",
        cluster=cluster,
        mutating=False,
        user="admin",
        params={},
        runner="none",
    )
    return job.id


@pytest.mark.parametrize(
    "header",
    [str(2**63).encode(), b"9" * 5000, b"-1", b"12a", "٣".encode()],
    ids=["2**63", "huge", "negative", "letters", "arabic-digit"],
)
async def test_an_invalid_last_event_id_is_a_400_before_the_stream(
    fresh_web: FreshWeb, header: bytes
) -> None:
    web: WebContext = fresh_web.app.state.web
    job_id = await _queued_job(web.manager, "resumed")
    await store.finish(web.manager, job_id, JobState.SUCCEEDED, result={"ok": True})
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as http:
        path = f"/api/v1/jobs/{job_id}/events"
        refused = await http.get(path, headers={b"Last-Event-ID": header})
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_input"
        assert "Last-Event-ID" in refused.json()["message"]
        largest = await http.get(path, headers={"Last-Event-ID": str(sse.MAX_EVENT_ID)})
        assert largest.status_code == 200 and largest.text.startswith("event: done")
        page = await http.get(f"/jobs/{job_id}/events", params={"after": 2**64})
        assert page.status_code != 200


async def test_a_user_follows_a_bounded_number_of_streams(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    manager = web.manager
    job_id = await _queued_job(manager, "followed")
    limit = manager.settings.streams_per_user
    streams = [
        await sse.job_stream(manager, job_id, user="admin", keep_alive=0.2, poll=0.05)
        for _ in range(limit)
    ]
    await anext(streams[0])  # one started (a keep-alive), the others not read yet: all count
    with pytest.raises(LimitReached, match=rf"admin already follows {limit} streams"):
        await sse.job_stream(manager, job_id, user="admin")
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as http:
        refused = await http.get(f"/api/v1/jobs/{job_id}/events")
    assert refused.status_code == 429 and refused.json()["error"] == "limit_reached"
    other = await sse.job_stream(manager, job_id, user="someone-else")
    await other.aclose()

    await streams.pop(0).aclose()  # a closed stream gives its place back
    streams.append(await sse.job_stream(manager, job_id, user="admin"))
    del streams[-1]  # so does one dropped without being read
    gc.collect()
    streams.append(await sse.job_stream(manager, job_id, user="admin"))
    assert sse.STREAMS.count(manager, "admin") == limit
    for stream in streams:
        await stream.aclose()
    assert sse.STREAMS.count(manager, "admin") == 0
