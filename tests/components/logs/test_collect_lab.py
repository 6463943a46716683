"""Central logging on a lab of its own (Gluu Server installed): the watcher's logs part
collects every server's logs into the store, nothing lost and nothing twice across a
partition, rotations by rename and by copytruncate, and a manager restart; a failed
login is found within 2 s, an NGINX 502 on the proxy by ``status:502``.

One module fixture applies the logs stage and keeps the watcher's logs part running."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

import logslab
from clustermgr.components import registry
from clustermgr.components.logs import apply as logs
from clustermgr.components.logs import read
from clustermgr.components.logs.sources import OXAUTH
from clustermgr.components.logs.watch import LogsWatch
from clustermgr.core.manager import Manager
from clustermgr.errors import HostUnreachable
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.store import LogStore, log_store
from clustermgr.monitor.watcher import BackgroundWatch
from clustermgr.topology import Role
from gluuhttp import https
from labfixture import SLOT, Lab, running_lab
from lblab import balance, client, oxauth_url
from polling import eventually

pytestmark = pytest.mark.integration

assert OXAUTH.path is not None
#: The identity app's log, where the writer writes (a source the lab nodes have).
OXAUTH_LOG: str = OXAUTH.path
LINES = 10_000
#: Lines a second the writer writes (the whole run spans the faults below).
RATE = 150
#: A bounded writer of numbered log4j lines into a log file, opened anew for each line
#: (so a rotation by rename starts a new file, as log4j's handlers do); it holds while
#: ``CTL.pause`` exists (saying so in ``CTL.paused``: a copytruncate loses nothing) and
#: writes no further than the number in ``CTL.upto``.
WRITER = r"""
import os, sys, time
path, run, total, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ctl = "/tmp/collect-" + run
owner = os.stat(path)
def upto():
    try:
        with open(ctl + ".upto") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0
i = 0
while i < total:
    if os.path.exists(ctl + ".pause"):
        open(ctl + ".paused", "w").close()
        time.sleep(0.02)
        continue
    if os.path.exists(ctl + ".paused"):
        os.unlink(ctl + ".paused")
    if i >= upto():
        time.sleep(0.05)
        continue
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    line = "%s,000 INFO  [collect] [org.gluu.Collect] (Collect.java:1) - %s %05d\n" % (
        stamp, run, i)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.fchown(fd, owner.st_uid, owner.st_gid)
    os.write(fd, line.encode())
    os.close(fd)
    i += 1
    time.sleep(1.0 / rate)
open(ctl + ".done", "w").close()
"""


@dataclass
class Collecting:
    lab: Lab
    manager: Manager
    store: LogStore
    watch: BackgroundWatch

    @property
    def cluster(self) -> str:
        return self.lab.config.cluster

    def restart(self) -> None:
        """A new watcher (what a manager restart starts) in place of the current one."""
        self.watch = logs_watcher(self.manager)


def logs_watcher(manager: Manager) -> BackgroundWatch:
    """The watcher with the logs part, running."""
    return BackgroundWatch(manager, [LogsWatch(manager)], registry.job_kinds())


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own: the 502 test applies the balancer, which the session's lab
    must not keep (its tests reach the nodes' own web fronts)."""
    prefix, subnet = SLOT.spare()
    async with running_lab(
        tmp_path_factory.mktemp("logs-collect-lab"), prefix=prefix, subnet=subnet
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def collecting(lab: Lab) -> AsyncIterator[Collecting]:
    """The logs stage applied and the watcher's logs part running; afterwards no
    follower, no applied mark, no rotated copies."""
    levels = await logslab.slapd_levels(lab)
    manager = await Manager.open(lab.settings)
    try:
        report = await logs.apply(manager, lab.config.cluster, dry_run=False, actor="tester")
        assert report.ok, report.results
        state = Collecting(lab, manager, log_store(manager), logs_watcher(manager))
        try:
            yield state
        finally:
            await state.watch.stop()
    finally:
        await manager.close()
        await logslab.put_back(lab, levels)
        for host in lab.config.hosts():
            await lab.sh(host.name, 'rm -f "$1".collect-*', OXAUTH_LOG)


async def numbers(c: Collecting, run: str) -> list[int]:
    """The numbers of ``run``'s lines in the store, in the order they were stored."""
    query = parse_query(f"source:oxauth {run}")
    found: list[int] = []
    after = 0
    while page := await c.store.after(c.cluster, query, after, limit=5000):
        found += [int(r.record.message.rsplit(" ", 1)[1]) for r in page]
        after = page[-1].id
    return found


async def stored_at_least(c: Collecting, run: str, count: int, timeout: float = 60) -> None:
    await eventually(
        lambda: numbers(c, run),
        until=lambda n: len(n) >= count,
        timeout=timeout,
        interval=0.5,
        what=f"{count} of run {run}'s lines stored",
        show=lambda n: f"{len(n)} stored",
    )


async def test_every_line_is_stored_once_across_faults(collecting: Collecting) -> None:
    c, lab = collecting, collecting.lab
    node = next(h.name for h in lab.config.hosts() if h.role is Role.IDENTITY)
    run = "collect" + secrets.token_hex(4)
    ctl = f"/tmp/collect-{run}"

    async def allow(upto: int) -> None:
        await lab.sh(node, 'echo "$2" > "$1.upto"', ctl, str(upto))

    # The follower has opened the log (a new source is read from its end: lines written
    # before that are not the collector's to find).
    await eventually(
        lambda: c.store.resume_points(c.cluster, lab.host(node).fqdn),
        until=lambda points: OXAUTH.id in points,
        timeout=30,
        interval=0.2,
        what="the follower reading the identity app's log",
    )
    await allow(3000)
    await lab.sh(
        node,
        'nohup python3 -c "$1" "$2" "$3" "$4" "$5" >/dev/null 2>&1 &',
        WRITER,
        OXAUTH_LOG,
        run,
        str(LINES),
        str(RATE),
    )
    await stored_at_least(c, run, 200)

    # A partition of 30 s: the node goes on writing; the collector finds it unreachable.
    lab.partition(node)
    try:
        await asyncio.sleep(30)
    finally:
        lab.heal(node)
    # Right after a heal the kernel may still answer "no route to host" for a moment.
    await eventually(
        lambda: allow(8000),
        until=lambda _: True,
        timeout=15,
        interval=0.5,
        ignore=(HostUnreachable,),
        what="the node answering again after the heal",
    )
    await stored_at_least(c, run, 3200)  # read again after the heal, past the partition

    # Rotation by rename, mid-stream; the next rotation comes once the collector read the
    # new file (as logrotate's do: two rotations before the follower reads the first
    # would leave the lines between them in a copy it does not look for).
    renamed = await lab.sh(
        node, 'mv "$1" "$1.collect-1"; grep -c "$2" "$1.collect-1"', OXAUTH_LOG, run
    )
    await stored_at_least(c, run, int(renamed) + 20)

    # Rotation by copytruncate (the writer held meanwhile, as logrotate's own race is
    # not the collector's).
    copied = await lab.sh(
        node,
        'touch "$1.pause"; while [ ! -e "$1.paused" ]; do sleep 0.05; done; '
        'cp -p "$2" "$2.collect-2"; : > "$2"; rm "$1.pause"; grep -c "$3" "$2.collect-2"',
        ctl,
        OXAUTH_LOG,
        run,
    )
    await stored_at_least(c, run, int(renamed) + int(copied) + 20)

    # A manager restart mid-stream: the new collector goes on from the store's points.
    await c.watch.stop()
    assert (await lab.sh(node, '[ -e "$1.done" ] && echo done || echo writing', ctl)).strip() == (
        "writing"
    )
    await allow(LINES)
    c.restart()

    await eventually(
        lambda: lab.sh(node, '[ -e "$1.done" ] && echo done || true', ctl),
        until=lambda out: out.strip() == "done",
        timeout=120,
        interval=0.5,
        what="the writer done",
    )
    found = await eventually(
        lambda: numbers(c, run),
        until=lambda n: len(n) >= LINES,
        timeout=30,
        interval=0.5,
        what="every line stored",
        show=lambda n: f"{len(n)} stored, missing {missing(n)}",
    )
    assert len(found) == LINES and sorted(found) == list(range(LINES)), "every number once"


def missing(found: list[int]) -> list[tuple[int, int]]:
    """The runs of numbers not in ``found`` (first, last)."""
    gaps: list[tuple[int, int]] = []
    for n in sorted(set(range(LINES)) - set(found)):
        if gaps and gaps[-1][1] == n - 1:
            gaps[-1] = (gaps[-1][0], n)
        else:
            gaps.append((n, n))
    return gaps


async def test_a_failed_login_is_found_within_two_seconds(collecting: Collecting) -> None:
    """Found by search within 2 s of being written, and shown by a tail already running
    (the tail the API, the CLI and the GUI follow)."""
    c, lab = collecting, collecting.lab
    node = next(h.name for h in lab.config.hosts() if h.role is Role.IDENTITY)
    user = "nobody" + secrets.token_hex(4)
    text = f"source:oxauth-audit USER_AUTHENTICATION_FAILURE {user}"
    tail = await read.tail(c.manager, c.cluster, text, poll=0.05)
    status, _ = await https(
        lab, node, "/oxauth/restv1/login", {"username": user, "password": "wrong-password"}
    )
    assert status == 401
    written = time.monotonic()  # the app wrote its audit line before it answered
    query = parse_query(text)
    found = await eventually(
        lambda: c.store.search(c.cluster, query, since=None, until=None),
        timeout=5,
        interval=0.05,
        what="the failed login in the store",
    )
    assert time.monotonic() - written < 2.0
    [record] = found
    assert record.record.host == lab.host(node).fqdn and record.record.level == "info"
    tailed: list[int] = []
    try:
        async with asyncio.timeout(5):
            while not tailed:
                tailed = [r.id for r in await anext(tail)]
    finally:
        await tail.aclose()
    assert tailed == [record.id]


async def test_an_nginx_502_on_the_proxy_is_found_by_its_status(collecting: Collecting) -> None:
    """Every identity node's app stopped a moment: the balancer answers 502."""
    c, lab = collecting, collecting.lab
    await balance(lab)
    identity = [h.name for h in lab.config.hosts() if h.role is Role.IDENTITY]
    path = "/oxauth/.well-known/openid-configuration"
    for name in identity:
        await lab.sh(name, "service oxauth stop >/dev/null")
    try:
        with client() as http:
            assert http.get(oxauth_url(lab)).status_code == 502
    finally:
        for name in identity:
            await lab.sh(name, "service oxauth start >/dev/null")
    with client() as http:
        await eventually(
            lambda: http.get(oxauth_url(lab)).status_code,
            until=lambda s: s == 200,
            timeout=30,
            ignore=(OSError,),
            what="the balancer serving again",
        )
    query = parse_query("source:nginx-access status:502")
    found = await eventually(
        lambda: c.store.search(c.cluster, query, since=None, until=None),
        timeout=10,
        what="the 502 in the store",
    )
    assert found[0].record.fields["path"] == path
    assert found[0].record.host == lab.host("proxy1").fqdn
