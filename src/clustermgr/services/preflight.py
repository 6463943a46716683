"""Preflight: can clustermgr manage these servers, and are they fit for their role?

Checks per host: SSH login, root or sudo, supported OS, the role's ports free
or held by the expected daemon, disk and memory; and across the cluster, clock
skew between members and the network between them (:mod:`.reachability`: every
pair that must connect, tried).  Every check ends pass, warn or fail with a
sentence a person can act on; one host that cannot be reached never hides the
others.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from clustermgr.core.access import HostAccess
from clustermgr.errors import ClustermgrError
from clustermgr.facts.base import gather
from clustermgr.facts.clock import CLOCK, max_skew, offset
from clustermgr.facts.os import OS_RELEASE, is_supported
from clustermgr.facts.ports import LISTENING_PORTS, holders
from clustermgr.facts.resources import MEMINFO, disk_space_fact
from clustermgr.inventory.schemas import ServerView
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.remote.pool import run_on_hosts
from clustermgr.services.reachability import Matrix, PairResult, State, check_reachability
from clustermgr.topology import (
    CLOCK_SKEW_FAIL,
    CLOCK_SKEW_WARN,
    DISK_BY_ROLE,
    MEMORY_BY_ROLE,
    PORTS_BY_ROLE,
    GiB,
    Sizing,
)

CLUSTER = "(cluster)"


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    host: str
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {
            "host": self.host,
            "check": self.name,
            "status": self.status.value,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class PreflightReport:
    checks: tuple[CheckResult, ...]
    #: The reachability matrix; None when the network was not checked.
    network: Matrix | None = None

    @property
    def ok(self) -> bool:
        network_ok = self.network is None or self.network.ok
        return network_ok and all(c.status is not Status.FAIL for c in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checks": [c.as_dict() for c in self.checks],
            "network": None if self.network is None else self.network.as_dict(),
        }


async def check_servers(
    access: HostAccess,
    servers: Sequence[ServerView],
    emit: Emit = ignore,
    *,
    network: bool = True,
) -> PreflightReport:
    """Every host's checks, the clock skew, and (``network``) the reachability matrix."""
    offsets: dict[str, float] = {}

    def tell(check: CheckResult) -> None:
        message = f"{check.status.value}: {check.name}: {check.detail}"
        emit(Event(EventKind.CHECK, message, host=check.host, step=check.name))

    async def one(hostname: str) -> list[CheckResult]:
        try:
            checks = await _check_host(access, access.servers[hostname], offsets)
        except ClustermgrError as exc:
            tell(CheckResult(hostname, "ssh login", Status.FAIL, exc.message))
            raise
        for check in checks:
            tell(check)
        return checks

    results = await run_on_hosts(
        [s.hostname for s in servers], one, limit=access.settings.parallel_hosts
    )
    checks: list[CheckResult] = []
    for server in servers:
        if server.hostname in results.succeeded:
            checks.extend(results.succeeded[server.hostname])
        else:
            exc = results.failed[server.hostname]
            detail = exc.message if isinstance(exc, ClustermgrError) else repr(exc)
            checks.append(CheckResult(server.hostname, "ssh login", Status.FAIL, detail))
    if len(offsets) > 1:
        checks.append(_skew_check(offsets))
        tell(checks[-1])
    matrix = None
    if network:
        matrix = await check_reachability(access, servers, emit)
        for server in servers:
            rows = matrix.from_source(server.hostname)
            if rows:
                checks.append(_network_check(server.hostname, rows))
                tell(checks[-1])
    return PreflightReport(tuple(checks), matrix)


async def _check_host(
    access: HostAccess, server: ServerView, offsets: dict[str, float]
) -> list[CheckResult]:
    host = server.hostname

    def result(name: str, status: Status, detail: str) -> CheckResult:
        return CheckResult(host, name, status, detail)

    conn = await access.connection(host)
    platform = await access.platform(host)
    who = f"logged in as {server.ssh_user}@{server.address}:{server.ssh_port}"
    checks = [result("ssh login", Status.PASS, who)]
    if platform.is_root:
        checks.append(result("root or sudo", Status.PASS, "logged in as root"))
    elif platform.sudo:
        checks.append(result("root or sudo", Status.PASS, "sudo without password works"))
    else:
        checks.append(
            result(
                "root or sudo",
                Status.FAIL,
                f"{server.ssh_user} is not root and `sudo -n` is refused",
            )
        )
        return checks  # the other facts need root (ss -p) or mean little without it

    os_info = await gather(conn, OS_RELEASE)
    checks.append(
        result(
            "supported OS",
            Status.PASS if is_supported(os_info) else Status.FAIL,
            os_info.pretty_name or f"{os_info.id} {os_info.version_id}",
        )
    )

    listeners = await gather(conn, LISTENING_PORTS)
    for use in PORTS_BY_ROLE[server.role]:
        held_by = holders(listeners, use.port)
        if not held_by:
            checks.append(result(f"port {use.port}", Status.PASS, f"free for {use.purpose}"))
        elif held_by <= use.expected:
            checks.append(
                result(
                    f"port {use.port}",
                    Status.PASS,
                    f"held by {', '.join(sorted(held_by))} ({use.purpose})",
                )
            )
        else:
            checks.append(
                result(
                    f"port {use.port}",
                    Status.FAIL,
                    f"held by {', '.join(sorted(held_by))}; {use.purpose} needs it "
                    f"(expected {' or '.join(sorted(use.expected))})",
                )
            )

    disk = await gather(conn, disk_space_fact("/"))
    checks.append(
        result("disk", *_sizing(disk.available_bytes, DISK_BY_ROLE[server.role], "free on /"))
    )
    memory = await gather(conn, MEMINFO)
    checks.append(
        result("memory", *_sizing(memory.available_bytes, MEMORY_BY_ROLE[server.role], "available"))
    )

    before = time.time()
    remote = await gather(conn, CLOCK)
    after = time.time()
    offsets[host] = offset(before, remote, after)
    checks.append(result("clock", Status.PASS, f"{offsets[host]:+.3f} s from the manager's clock"))
    return checks


def _sizing(available: int, sizing: Sizing, what: str) -> tuple[Status, str]:
    shown = f"{available / GiB:.1f} GiB {what}"
    if available < sizing.minimum:
        return Status.FAIL, f"{shown}, needs at least {sizing.minimum / GiB:.1f} GiB"
    if available < sizing.recommended:
        return Status.WARN, f"{shown}, {sizing.recommended / GiB:.0f} GiB recommended"
    return Status.PASS, shown


def _skew_check(offsets: dict[str, float]) -> CheckResult:
    skew = max_skew(offsets)
    detail = f"{skew:.3f} s between members"
    if skew >= CLOCK_SKEW_FAIL:
        status = Status.FAIL
        detail += f" (limit {CLOCK_SKEW_FAIL:g} s: synchronise the clocks with NTP)"
    elif skew >= CLOCK_SKEW_WARN:
        status = Status.WARN
    else:
        status = Status.PASS
    return CheckResult(CLUSTER, "clock skew", status, detail)


def _network_check(host: str, rows: Sequence[PairResult]) -> CheckResult:
    """One host's outgoing connections in a line: the pairs that failed, by name."""
    bad = [r for r in rows if r.state is not State.OPEN]
    if not bad:
        return CheckResult(host, "network", Status.PASS, f"all {len(rows)} connections open")
    named = "; ".join(f"{r.pair.destination}:{r.pair.port} {r.state.value}" for r in bad)
    return CheckResult(host, "network", Status.FAIL, f"{len(bad)} of {len(rows)} not open: {named}")
