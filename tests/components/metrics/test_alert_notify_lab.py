"""From a scrape to a message, end to end, on a lab of its own: the watcher's ``metrics``
part scraping every 2 s and the notification dispatcher beside it, as ``clustermgr
watch`` runs them, with an email channel (a local SMTP relay requiring STARTTLS and a
login) and a webhook channel (a local HTTP receiver), both taking critical alerts.

A bounded, niced CPU burn in one host shows in its series, opens a threshold rule's
alert after the rule's (shortened) duration and tells each channel once; its end
resolves the alert and tells each channel once more.  A host whose power is cut leaves
a gap in its series (no points, never zeros) and opens ``host-unreachable``; booted
again, its series go on with no negative rate.  A Redis restart (its counters back at
zero) gives no negative rate either.

Lab hosts share the machine's CPU counters, which other work keeps busy: the rule
watches the share of niced processes, which only the burn moves (as the rules' lab
test does).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from clustermgr.components import registry
from clustermgr.components.metrics import rulestore
from clustermgr.components.metrics.catalog import BY_NAME
from clustermgr.components.metrics.read import read
from clustermgr.components.metrics.watch import MetricsWatch
from clustermgr.core.manager import Manager
from clustermgr.monitor import store
from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.notify import service
from clustermgr.notify.channels import ChannelSpec, EmailSettings, Level, WebhookSettings
from clustermgr.notify.dispatcher import POLL, BackgroundDispatch
from clustermgr.redact import Secret
from labfixture import Lab
from metricslab import START, exporter_lab
from polling import eventually
from receivers import PASSWORD, USER, Receiver, Relay, http_receiver, smtp_relay
from webfixture import free_port

pytestmark = pytest.mark.integration

SCRAPE = 2.0
BURN_PIDS = "/run/clustermgr-test-burn.pids"
#: Two niced loops (the machine has two cores), each ended by ``timeout`` after 60 s.
BURN = (
    f"rm -f {BURN_PIDS}; for n in 1 2; do setsid -f sh -c 'echo $$ >> {BURN_PIDS}; "
    'exec timeout 60 nice -n 2 sh -c "while :; do :; done"\' </dev/null >/dev/null 2>&1; done'
)
STOP_BURN = f"kill $(cat {BURN_PIDS}) 2>/dev/null; rm -f {BURN_PIDS}; true"
THRESHOLD = 0.1
DURATION = 10
RULE = {
    "series": "cpu",
    "labels": {"mode": "nice"},
    "comparison": ">",
    "threshold": THRESHOLD,
    "duration": DURATION,
    "severity": "critical",
}
REDIS_EXPORTER_PID = "/run/clustermgr-test-redis-exporter.pid"
#: Redis (no password, as the package starts it) and its exporter, on 127.0.0.1 only.
START_REDIS = (
    "service redis-server start >/dev/null && "
    f"setsid -f sh -c 'echo $$ > {REDIS_EXPORTER_PID}; exec prometheus-redis-exporter "
    "--web.listen-address=127.0.0.1:9121 --redis.addr=redis://127.0.0.1:6379 "
    ">/dev/null 2>&1' </dev/null >/dev/null 2>&1"
)
STOP_REDIS = (
    f"kill $(cat {REDIS_EXPORTER_PID}) 2>/dev/null; rm -f {REDIS_EXPORTER_PID}; "
    "service redis-server stop >/dev/null; true"
)
#: Many commands at once: a counter far above where the restarted Redis starts.
COMMANDS = "redis-benchmark -q -n 20000 -t ping_inline >/dev/null"
#: A webhook URL's path is a secret (as a Slack hook's is): no message may carry it.
HOOK_PATH = "/hook/T0k3n-s3cr3t-path"


@pytest.fixture(scope="module")
async def lab(metrics_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with exporter_lab(
        metrics_lab, tmp_path_factory.mktemp("notify-lab"), ["idp1", "idp2"]
    ) as running:
        yield running


@dataclass
class Running:
    """The watcher and the dispatcher at work, and what reached the receivers."""

    lab: Lab
    manager: Manager
    relay: Relay
    hook: Receiver
    #: Every cycle's report: shown with a failing assertion, what the watcher saw.
    reports: list[CycleReport] = field(default_factory=list)

    @property
    def cluster(self) -> str:
        return str(self.lab.config.cluster)

    def mails(self, event: str, key: str) -> list[EmailMessage]:
        return [m for m in self.relay.messages if _event(m) == event and _alert(m) == key]

    def posts(self, event: str, key: str) -> list[dict[str, Any]]:
        return [b for b in self.hook.bodies if b["event"] == event and b["alert"] == key]

    async def told_once(self, event: str, key: str, what: str) -> tuple[EmailMessage, Any]:
        """Wait for ``event`` of ``key`` on both channels; then a few more dispatcher
        passes and scrapes, and it still arrived once on each."""
        await eventually(
            lambda: self.mails(event, key) and self.posts(event, key),
            timeout=20,
            interval=0.2,
            what=f"the {what} reached both channels",
            show=lambda _: f"mails {self.relay.messages!r}, posts {self.hook.bodies!r}",
        )
        await self.settled()
        mails, posts = self.mails(event, key), self.posts(event, key)
        assert len(mails) == 1, [m["Subject"] for m in mails]
        assert len(posts) == 1, posts
        return mails[0], posts[0]

    async def scrapes(self, count: int) -> None:
        """Wait until the watcher has finished ``count`` more cycles."""
        seen = len(self.reports)
        await eventually(
            lambda: len(self.reports) - seen,
            timeout=count * SCRAPE + 10,
            interval=0.1,
            until=lambda done: done >= count,
            what=f"{count} more scrapes",
        )

    async def settled(self) -> None:
        """Two more scrapes and three more dispatcher passes: time for any repeat."""
        await asyncio.gather(self.scrapes(2), asyncio.sleep(3 * POLL))


def _event(mail: EmailMessage) -> str:
    return str(mail["Subject"]).split(" ", 1)[0].lower()


def _alert(mail: EmailMessage) -> str:
    lines = [ln for ln in mail.get_content().splitlines() if ln.startswith("alert: ")]
    return lines[0].removeprefix("alert: ") if lines else ""


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    with smtp_relay(tmp_path, free_port()) as running:
        yield running


@pytest.fixture
async def running(lab: Lab, relay: Relay) -> AsyncIterator[Running]:
    settings = lab.settings.model_copy(
        update={"metrics_scrape_seconds": SCRAPE, "watch_interval": SCRAPE, "watch_timeout": 3.0}
    )
    manager = await Manager.open(settings)
    cluster = lab.config.cluster
    with http_receiver(path=HOOK_PATH) as hook:
        await service.add_channel(
            manager,
            ChannelSpec(name="mail", min_severity=Level.CRITICAL, cluster=cluster),
            EmailSettings(
                host="127.0.0.1",
                port=relay.port,
                ca_file=str(relay.ca_file),
                username=USER,
                sender="clustermgr@example.org",
                recipients=["ops@example.org"],
            ),
            password=Secret(PASSWORD, label="smtp"),
            actor="tests",
        )
        await service.add_channel(
            manager,
            ChannelSpec(name="hook", min_severity=Level.CRITICAL, cluster=cluster),
            WebhookSettings(url=hook.url),
            actor="tests",
        )
        state = Running(lab, manager, relay, hook)
        # As `clustermgr watch` runs them: the watcher, and the dispatcher beside it.
        watcher = Watcher(
            manager, [MetricsWatch(manager)], kinds=registry.job_kinds(), cluster=cluster
        )
        stop = asyncio.Event()
        watching = asyncio.create_task(watcher.run(stop, state.reports.extend))
        dispatch = BackgroundDispatch(manager)
        try:
            yield state
        finally:
            stop.set()
            await asyncio.wait_for(watching, 30)
            await dispatch.stop()
            await watcher.close()
            for name in ("mail", "hook"):
                await service.remove_channel(manager, name, actor="tests")
            await manager.close()


def no_secret(running: Running) -> None:
    """No message carries the SMTP password or the webhook's secret path."""
    texts = [m.as_string() for m in running.relay.messages]
    texts += [json.dumps(b) for b in running.hook.bodies]
    for text in texts:
        assert PASSWORD not in text and HOOK_PATH not in text and "T0k3n" not in text


def names_the_alert(mail: EmailMessage, post: dict[str, Any], host: str, rule: str) -> None:
    body = mail.get_content()
    assert f"host: {host}" in body and "severity: critical" in body, body
    assert f" on {host}" in str(mail["Subject"]), mail["Subject"]
    assert post["host"] == host and post["severity"] == "critical", post
    assert rule in body and rule in post["text"] + post["message"] + post["alert"], post


async def series(
    running: Running, host: str, names: list[str], since: float
) -> list[dict[str, Any]]:
    """What the charts read: the series of ``host`` since ``since``, up to now."""
    answer = await read(
        running.manager,
        running.cluster,
        names,
        start=int(since),
        end=int(time.time()) + 1,
        host=host,
    )
    found: list[dict[str, Any]] = answer["series"]
    return found


async def nice_share(running: Running, host: str, since: float) -> float:
    """The highest niced CPU share charted for ``host`` since ``since``."""
    found = await series(running, host, ["cpu"], since)
    values = [
        v
        for s in found
        if s["labels"].get("mode") == "nice"
        for _, v in s["points"]
        if v is not None
    ]
    return max(values, default=0.0)


async def test_a_cpu_burn_is_charted_alerts_and_tells_each_channel_once(
    running: Running,
) -> None:
    lab, manager, cluster = running.lab, running.manager, running.cluster
    host = lab.host("idp1").fqdn
    await rulestore.change(manager, cluster, "cpu-nice", RULE, actor="tests")

    def ours(key: str) -> bool:
        """The rule's alert on the burning host (every host sees the machine's CPU)."""
        return key.startswith("cpu-nice:") and host in key.split(":")

    await running.scrapes(3)  # rates need two scrapes; nothing niced runs yet
    assert await nice_share(running, host, time.time() - 60) <= THRESHOLD
    await lab.sh("idp1", BURN)
    try:
        burning = time.time()
        seen = await eventually(
            lambda: nice_share(running, host, burning - 1),
            timeout=20,
            interval=1,
            until=lambda v: v > THRESHOLD,
            what="the burn in the niced CPU series",
        )
        assert seen > THRESHOLD

        opened = await eventually(
            lambda: store.alerts(manager, cluster, open_only=True, component="metrics"),
            timeout=DURATION + 20,
            interval=0.5,
            until=lambda alerts: any(ours(a.key) for a in alerts),
            what="the rule's alert opened",
        )
        [alert] = [a for a in opened if ours(a.key)]
        # Not before the rule's duration (less a scrape: the breach is seen at the
        # first scrape after the burn started).
        assert (alert.opened_at.timestamp() - burning) >= DURATION - SCRAPE - 0.5
        assert alert.severity == "critical"
        mail, post = await running.told_once("opened", alert.key, "opening")
        names_the_alert(mail, post, host, "cpu-nice")
        assert post["text"].startswith(f"OPENED [critical] {cluster}/metrics on {host}")
    finally:
        await lab.sh("idp1", STOP_BURN)

    await eventually(
        lambda: store.alerts(manager, cluster, open_only=True, component="metrics"),
        timeout=20,
        interval=0.5,
        until=lambda alerts: alert.key not in [a.key for a in alerts],
        what="the rule's alert resolved once the burn stopped",
    )
    mail, post = await running.told_once("resolved", alert.key, "resolution")
    names_the_alert(mail, post, host, "cpu-nice")
    assert post["resolved_at"] is not None
    assert len(running.mails("opened", alert.key)) == len(running.posts("opened", alert.key)) == 1
    no_secret(running)


async def test_a_power_cut_leaves_a_gap_and_opens_host_unreachable(running: Running) -> None:
    lab, manager, cluster = running.lab, running.manager, running.cluster
    host = lab.host("idp2").fqdn
    key = f"host-unreachable:{host}"
    # Critical at once (by default: a warning first, critical after a while).
    edit = {"duration": 0, "severity": "critical"}
    await rulestore.change(manager, cluster, "host-unreachable", edit, actor="tests")
    before = time.time()
    await eventually(
        lambda: series(running, host, ["cpu"], before - 30),
        timeout=20,
        interval=1,
        until=lambda found: any(v is not None for s in found for _, v in s["points"]),
        what=f"points of {host} before the power cut",
    )
    off = time.time()
    lab.stop("idp2", power_cut=True)
    try:
        mail, post = await running.told_once("opened", key, "host-unreachable opening")
        names_the_alert(mail, post, host, "host-unreachable")
        await asyncio.sleep(max(0.0, off + 16 - time.time()))  # a few steps of nothing
    finally:
        on = time.time()
        lab.start("idp2")
        await lab.sh("idp2", START)
    mail, post = await running.told_once("resolved", key, "host-unreachable resolution")
    names_the_alert(mail, post, host, "host-unreachable")
    await eventually(
        lambda: series(running, host, ["cpu"], on),
        timeout=20,
        interval=1,
        until=lambda found: sum(1 for s in found for _, v in s["points"] if v is not None),
        what=f"points of {host} after it booted again",
    )
    await running.scrapes(3)

    found = await series(running, host, list(BY_NAME), off - 30)
    assert found
    step = (await read(manager, cluster, ["cpu"], start=int(off - 30), end=int(time.time())))[
        "step"
    ]
    inside = [
        (s["name"], s["labels"], t, v)
        for s in found
        for t, v in s["points"]
        if off + step < t < on - step
    ]
    assert inside, "the window holds steps of the time it was off"
    assert all(v is None for *_, v in inside), [p for p in inside if p[-1] is not None]
    after = [
        (s["name"], s["labels"], t, v)
        for s in found
        for t, v in s["points"]
        if t > on and v is not None
    ]
    assert after, "points again after the boot"
    negative = [p for s in found for p in s["points"] if p[1] is not None and p[1] < 0]
    assert not negative, negative
    no_secret(running)


async def test_a_redis_restart_gives_no_negative_rate(running: Running) -> None:
    lab = running.lab
    host = lab.host("idp1").fqdn
    await lab.sh("idp1", START_REDIS)
    try:
        started = time.time()

        async def commands(since: float) -> list[float]:
            """The command rates charted since ``since``."""
            found = await series(running, host, ["redis_commands"], started)
            return [v for s in found for t, v in s["points"] if v is not None and t >= since]

        await eventually(
            lambda: commands(started),
            timeout=20,
            interval=1,
            what="Redis' command rate is charted",
        )
        await lab.sh("idp1", COMMANDS)
        await running.scrapes(2)
        await lab.sh("idp1", "service redis-server restart >/dev/null")
        restarted = time.time()
        await eventually(
            lambda: commands(restarted + SCRAPE),
            timeout=20,
            interval=1,
            what="Redis' command rate is charted again after its restart",
        )
        await running.scrapes(2)
        rates = await commands(started)
        assert max(rates) > 100, rates  # the burst of commands shows
        assert min(rates) >= 0, rates
    finally:
        await lab.sh("idp1", STOP_REDIS)
