"""The identity servers switch to Redis only over a whole chain: a power cut mid-apply.

A lab of its own with three identity nodes.  The cache apply rolls Redis and
stunnel through the nodes one at a time; idp2 loses its power right after its
Redis step, so the roll stops there and idp3 never gets its share of the chain.
Logins must keep working on the nodes that are up, and oxCacheConfiguration
must not name REDIS; once idp2 is back, an apply completes the chain and
switches every node to Redis.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cachelab import cache_config, cache_lab, configure, eventually_config, wait_chain_ok
from clustermgr.plan.events import Event, EventKind
from clustermgr.plan.model import Outcome
from gluuhttp import login
from labfixture import Lab

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

UP = ("idp1", "idp3")
CUT = "idp2"
SWITCH = "set oxCacheConfiguration to REDIS"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with cache_lab(tmp_path_factory.mktemp("cache-cutover"), identity_nodes=3) as running:
        yield running


class PowerCut:
    """An emitter that cuts ``name``'s power as soon as its Redis step has finished."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab = lab
        self.fqdn = lab.host(name).fqdn
        self.name = name
        self.done = False
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if (
            not self.done
            and event.kind is EventKind.STEP_FINISHED
            and event.host == self.fqdn
            and "run Redis" in event.message
        ):
            self.done = True
            self.lab.stop(self.name, power_cut=True)


async def logins_for(lab: Lab, nodes: tuple[str, ...], seconds: float) -> list[tuple[str, Any]]:
    """Log in on each of ``nodes`` again and again for ``seconds`` (the stand-in app
    re-reads oxCacheConfiguration every second); every answer that was not a session."""
    bad: list[tuple[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for node in nodes:
            status, answer = await login(lab, node)
            if status != 200 or not answer or not answer.get("session_id"):
                bad.append((node, (status, answer)))
            elif answer.get("cache") == "REDIS":
                bad.append((node, "a session in Redis while the chain is incomplete"))
        await asyncio.sleep(0.2)
    return bad


def switch_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    hosts: dict[str, list[dict[str, Any]]] = report["hosts"]
    return [r for rs in hosts.values() for r in rs if r["title"] == SWITCH]


async def test_a_power_cut_during_the_apply_leaves_every_node_up_serving_logins(
    lab: Lab,
) -> None:
    for node in (*UP, CUT):
        assert (await cache_config(lab, node))["cacheProviderType"] == "NATIVE_PERSISTENCE"
    cut = PowerCut(lab, CUT)
    report = await configure(lab, emit=cut)
    assert cut.done, "the apply never reached idp2's Redis step"
    assert not report["ok"], json.dumps(report, indent=1)
    [switch] = switch_results(report)
    assert switch["outcome"] == Outcome.SKIPPED.value, switch
    assert "not whole" in switch["reason"] and CUT in switch["reason"], switch

    for node in UP:
        assert (await cache_config(lab, node))["cacheProviderType"] == "NATIVE_PERSISTENCE"
    bad = await logins_for(lab, UP, seconds=4)
    assert not bad, bad[:5]

    lab.start(CUT)
    again = await configure(lab)
    assert again["ok"], json.dumps(again, indent=1)
    [switch] = switch_results(again)
    assert switch["outcome"] == Outcome.CHANGED.value, switch
    await wait_chain_ok(lab)
    for node in (*UP, CUT):
        await eventually_config(lab, node, "REDIS")
    for node in (*UP, CUT):
        deadline = time.monotonic() + 20
        while True:
            status, answer = await login(lab, node)
            if status == 200 and answer.get("cache") == "REDIS":
                break
            assert time.monotonic() < deadline, (node, status, answer)
            await asyncio.sleep(0.3)
