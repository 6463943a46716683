"""What the job pages and the diagrams show, in a real browser (Chromium via Playwright).

Against a real ``clustermgr serve`` on a copy of the lab's data: the cache chain and
the replication topology drawn from recorded watcher cycles (11 nodes among
them), a job followed live as its steps end, then failing, and a real plan on the
lab counting its steps.  Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from typing import Any

import pytest
from playwright.async_api import Page, expect

from browsing import JOB_MS, finished, shot, shot_of, sign_in_to
from clustermgr.components.cache import status as cs
from clustermgr.components.cache.view import HOPS
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.monitor import store
from clustermgr.monitor.store import Cycle
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.services import clusters
from clustermgr.topology import Role
from labfixture import Lab
from webfixture import WebUser

pytestmark = pytest.mark.integration

#: The colours app.css gives: box fills by health, and the red of a failure.
FILLS = {
    "ok": "rgb(231, 244, 234)",
    "critical": "rgb(251, 233, 231)",
    "unknown": "rgb(238, 241, 245)",
}
RED = "rgb(179, 38, 30)"


async def _cluster(manager: Manager, identity: int, *, proxy: bool = False) -> str:
    """A cluster of ``identity`` identity servers (and a proxy) never contacted."""
    name = f"view-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    async with manager.store() as inventory:
        for i in range(1, identity + 1):
            spec = ServerSpec(name, f"idp{i}.{name}.test", f"192.0.2.{i}", Role.IDENTITY)
            await inventory.add_server(spec, None, [])
        if proxy:
            spec = ServerSpec(name, f"proxy1.{name}.test", "192.0.2.100", Role.PROXY)
            await inventory.add_server(spec, None, [])
    return name


async def _drop(manager: Manager, name: str) -> None:
    with contextlib.suppress(NotFound):
        await clusters.remove_cluster(manager, name)


def _cache_snapshot(name: str) -> dict[str, Any]:
    """idp1 all up, idp2's Redis down (so out of the pool), idp3 not checked."""
    proxy = f"proxy1.{name}.test"
    nodes = []
    for i, down in ((1, None), (2, cs.REDIS)):
        host = f"idp{i}.{name}.test"
        gone = {cs.REDIS, cs.POOL_MEMBER} if down else set()
        hops = [
            cs.Hop(host, what, what not in gone, "refused" if what in gone else "")
            for what, _ in HOPS
        ]
        nodes.append(cs.NodeChain(host, f"idp{i}", hops, {"used_memory": 1048576}))
    problems = [f"redis on idp2.{name}.test is down: refused"]
    return cs.CacheStatus(name, proxy, nodes, [], None, None, problems).as_dict()


async def test_cache_chain_boxes_are_coloured_by_state_and_legible(
    tab: Page, live_manager: Manager, web_admin: WebUser
) -> None:
    name = await _cluster(live_manager, 3, proxy=True)
    try:
        await store.record_cycle(
            live_manager, Cycle(name, "cache", utcnow(), _cache_snapshot(name))
        )
        page = tab
        await sign_in_to(page, web_admin, f"/clusters/{name}/cache")
        await expect(page.get_by_role("heading", name=f"Cache of {name}")).to_be_visible()
        chain = page.locator("svg.cache-chain")
        await expect(chain).to_be_visible()

        def box(host: int, hop: str) -> Any:
            return page.locator(f'g.hop[data-host="idp{host}.{name}.test"][data-hop="{hop}"]')

        async def fill(host: int, hop: str) -> str:
            rect = box(host, hop).locator("rect")
            return str(await rect.evaluate("r => getComputedStyle(r).fill"))

        assert await fill(1, "Redis") == FILLS["ok"]
        assert await fill(2, "Redis") == FILLS["critical"]
        assert await fill(2, "in pool") == FILLS["critical"]
        assert await fill(2, "twemproxy") == FILLS["ok"]
        assert await fill(3, "Redis") == FILLS["unknown"]
        await expect(box(2, "Redis").locator("text.hop-state")).to_have_text("down")
        await expect(box(3, "Redis").locator("text.hop-state")).to_have_text("not checked")
        label = box(1, "proxy :8888").locator("text.hop-label")
        colour = await label.evaluate("t => getComputedStyle(t).fill")
        assert colour == "rgb(29, 36, 48)", "the label is dark on a light box"
        # Drawn at its own size at page width: 13px text stays at least 12px high.
        scale = await chain.evaluate(
            "s => s.getBoundingClientRect().width / s.viewBox.baseVal.width"
        )
        assert scale >= 12 / 13, f"the chain is shrunk to {scale:.2f}"
        for host in (1, 2, 3):
            rect = await box(host, "proxy :8888").locator("rect").bounding_box()
            text = await box(host, "proxy :8888").locator("text.hop-label").bounding_box()
            assert rect and text and text["width"] <= rect["width"] - 4, "the label fits its box"
        await chain.scroll_into_view_if_needed()
        await shot(page, "cache-chain")
        await shot_of(chain, "cache-chain-drawing")
    finally:
        await _drop(live_manager, name)


def _ldap_snapshot(name: str, count: int) -> dict[str, Any]:
    """Every node replicating from every other, but: idp3 takes nothing from idp5 (TLS
    fails), idp4 is behind idp2, and the last node could not be checked."""
    hosts = [f"idp{i}.{name}.test" for i in range(1, count + 1)]
    broken = (hosts[2], hosts[4]) if count > 4 else (hosts[1], hosts[0])
    behind = (hosts[3], hosts[1]) if count > 4 else None
    nodes = [
        {"host": h, "server_id": i, "state": "ok", "health": "ok", "reason": ""}
        for i, h in enumerate(hosts[:-1], start=1)
    ]
    nodes.append(
        {"host": hosts[-1], "state": "unreachable", "health": "critical", "reason": "timeout"}
    )
    agreements = [
        {"consumer": c, "provider": p, "rid": f"{j:03}", "state": "tls" if (c, p) == broken else "ok",
         "reason": "certificate verify failed" if (c, p) == broken else ""}
        for c in hosts for j, p in enumerate(hosts, start=1) if c != p
    ]  # fmt: skip
    pairs = [
        {"host": c, "peer": p, "caught_up": (c, p) != behind, "lag_seconds": 40.0 if (c, p) == behind else 0.0}
        for c in hosts for p in hosts if c != p
    ]  # fmt: skip
    return {"nodes": nodes, "agreements": agreements, "pairs": pairs, "probes": []}


@pytest.mark.parametrize("count", [3, 11])
async def test_replication_topology_reads_at_3_and_11_nodes(
    tab: Page, live_manager: Manager, web_admin: WebUser, count: int
) -> None:
    name = await _cluster(live_manager, count)
    try:
        snapshot = _ldap_snapshot(name, count)
        await store.record_cycle(live_manager, Cycle(name, "ldap", utcnow(), snapshot))
        page = tab
        await sign_in_to(page, web_admin, f"/clusters/{name}/ldap")
        await expect(
            page.get_by_role("heading", name=f"LDAP replication of {name}")
        ).to_be_visible()
        drawing = page.locator("svg.topology.replication")
        await expect(drawing).to_be_visible()
        circles = []
        for i in range(1, count + 1):
            node = page.locator(f'g.node[data-host="idp{i}.{name}.test"]')
            circle = await node.locator("circle").bounding_box()
            label = await node.locator("text").first.bounding_box()
            assert circle and label
            assert label["width"] <= circle["width"] - 8, f"idp{i}'s name fits its circle"
            assert label["height"] >= 12, "names are drawn at a readable size"
            circles.append(circle)
        for i, a in enumerate(circles):
            for b in circles[i + 1 :]:
                apart = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                apart = apart or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
                assert apart, "no two nodes overlap on the page"
        arrows = page.locator("line.arrow")
        await expect(arrows).to_have_count(count * (count - 1))
        consumer, provider = (3, 5) if count > 4 else (2, 1)
        red = page.locator(
            f'line.arrow[data-consumer="idp{consumer}.{name}.test"][data-provider="idp{provider}.{name}.test"]'
        )
        await expect(red).to_have_class(re.compile("health-critical"))
        await drawing.scroll_into_view_if_needed()
        await shot(page, f"replication-{count}-nodes")
        await shot_of(drawing, f"replication-{count}-nodes-drawing")
    finally:
        await _drop(live_manager, name)


def _step(host: str, title: str, outcome: Outcome, reason: str) -> StepResult:
    return StepResult(title, host, title, outcome, reason)


async def test_a_job_page_counts_steps_live_and_a_failed_job_ends_red(
    tab: Page, live_manager: Manager, web_admin: WebUser
) -> None:
    """A job no runner takes, written here as a runner would: the page follows it."""
    name = await _cluster(live_manager, 2)
    host = f"idp1.{name}.test"
    try:
        job = await jobs.create(
            live_manager, kind="cache-apply", cluster=name, mutating=True, user="admin",
            params={}, runner="none",
        )  # fmt: skip
        assert await jobs.claim(live_manager, job.id)
        titles = [
            "install redis",
            "write redis.conf",
            "install stunnel",
            "start stunnel",
            "start twemproxy",
        ]

        def ended(n: int, outcome: Outcome = Outcome.CHANGED) -> Event:
            title = titles[n - 1]
            message = f"{title}: {outcome.value}"
            return Event(EventKind.STEP_FINISHED, message, host, title, outcome, done=n, planned=5)

        await jobs.append_events(
            live_manager, job.id, 1,
            [Event(EventKind.PLAN_STARTED, f"apply the cache of cluster {name}"),
             Event(EventKind.PLAN_STARTED, "applying the cache: 5 steps", done=0, planned=5),
             ended(1), ended(2)],
        )  # fmt: skip
        page = tab
        await sign_in_to(page, web_admin, f"/jobs/{job.id}")
        progress = page.locator("#job-progress")
        await expect(progress).to_have_text(re.compile(r"2 of 5 steps done"))
        await expect(page.locator("#job-state")).to_have_text("running")

        await jobs.append_events(live_manager, job.id, 5, [ended(3), ended(4, Outcome.FAILED)])
        await expect(progress).to_have_text(re.compile(r"4 of 5 steps done"), timeout=JOB_MS)
        assert await progress.locator("progress").evaluate("p => [p.value, p.max]") == [4, 5]
        await expect(page.locator("#job-done")).to_be_hidden()
        await shot(page, "job-progress-live")

        results = [
            _step(host, t, Outcome.CHANGED, "installed") for t in titles[:3]
        ] + [
            _step(host, titles[3], Outcome.FAILED, "`systemctl start stunnel` exited with status 1"),
            _step(host, titles[4], Outcome.SKIPPED, "an earlier step on this host failed"),
        ]  # fmt: skip
        report = ApplyReport("the cache", False, {host: results})
        await jobs.append_events(
            live_manager,
            job.id,
            7,
            [Event(EventKind.PLAN_FINISHED, "the cache: 3 changed, 1 failed, 1 skipped")],
        )
        await jobs.finish(live_manager, job.id, JobState.FAILED, result=report.as_dict())
        assert await finished(page) == "failed"
        done = page.locator("#job-done")
        assert await done.evaluate("d => getComputedStyle(d).color") == RED
        state = page.locator("#job-state")
        assert await state.evaluate("s => getComputedStyle(s).color") == RED
        await expect(page.get_by_role("alert").filter(has_text="1 step failed")).to_contain_text(
            "and 1 was skipped"
        )
        await expect(progress).to_have_text(re.compile(r"4 of 5 steps done"))
        await shot(page, "job-failed")

        await page.reload()
        await expect(progress).to_have_text(re.compile(r"4 of 5 steps done"))
        assert await done.evaluate("d => getComputedStyle(d).color") == RED
    finally:
        await _drop(live_manager, name)


async def test_a_real_plan_counts_every_step_it_ran(
    tab: Page, web_admin: WebUser, lab: Lab
) -> None:
    page = tab
    await sign_in_to(page, web_admin, "/clusters/lab")
    await page.get_by_role("button", name="Plan", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    assert await finished(page) == "succeeded"
    words = await page.locator("#job-progress").inner_text()
    found = re.search(r"(\d+) of (\d+) steps? done", words)
    assert found and found.group(1) == found.group(2) and int(found.group(2)) > 0, words
    await shot(page, "plan-progress")
