"""The network between members: who must reach whom, and whether they do.

The pairs come from the topology's flows (:data:`clustermgr.topology.FLOWS`) and
the manager's SSH to every member.  Each member then tries a TCP connection to
each of its destinations, all at once; a destination port nothing listens on yet
gets a temporary listener for the length of the check (removed afterwards,
whatever happens), and a port a real service holds is checked against that
service.  A pair is ``open``, ``refused`` (a reset), ``filtered`` (no answer:
dropped by a firewall) or ``error`` (it could not be tried); a blocked pair
carries the firewall rule on its destination that would let it through.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from clustermgr.core.access import HostAccess
from clustermgr.errors import ClustermgrError, ConnectTimeout, HostUnreachable, RemoteError
from clustermgr.inventory.schemas import ServerView
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.remote.pool import run_on_hosts
from clustermgr.services import netprobe
from clustermgr.topology import FLOWS, SSH

#: The source of the rows that come from the manager's own SSH connections.
MANAGER = "(manager)"
#: How long one connection attempt may wait for an answer.
PROBE_TIMEOUT = 3.0
#: A temporary listener exits by itself after this long, should its removal fail.
LISTENER_LIFETIME = 120.0


class State(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    FILTERED = "filtered"
    ERROR = "error"


@dataclass(frozen=True)
class Pair:
    source: str
    destination: str
    #: The destination's address, as the source dials it.
    address: str
    port: int
    purpose: str


@dataclass(frozen=True)
class PairResult:
    pair: Pair
    state: State
    detail: str = ""
    #: On the destination: the packet filter rule that lets the source through.
    rule: str | None = None

    @property
    def blocked(self) -> bool:
        return self.state in (State.REFUSED, State.FILTERED)

    def as_dict(self) -> dict[str, object]:
        p = self.pair
        return {
            "source": p.source,
            "destination": p.destination,
            "address": p.address,
            "port": p.port,
            "purpose": p.purpose,
            "state": self.state.value,
            "blocked": self.blocked,
            "detail": self.detail,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Matrix:
    #: The manager, then the members in inventory order: the table's rows and columns.
    hosts: tuple[str, ...]
    results: tuple[PairResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.state is State.OPEN for r in self.results)

    @property
    def blocked(self) -> tuple[PairResult, ...]:
        return tuple(r for r in self.results if r.blocked)

    def from_source(self, host: str) -> tuple[PairResult, ...]:
        return tuple(r for r in self.results if r.pair.source == host)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "hosts": list(self.hosts),
            "pairs": [r.as_dict() for r in self.results],
        }


def member_pairs(servers: Sequence[ServerView]) -> list[Pair]:
    """Every connection the cluster needs, ordered by source, destination and port."""
    pairs = [Pair(MANAGER, s.hostname, s.address, s.ssh_port, SSH.purpose) for s in servers]
    for flow in FLOWS:
        pairs += [
            Pair(src.hostname, dst.hostname, dst.address, flow.port.port, flow.port.purpose)
            for src in servers
            if src.role is flow.source
            for dst in servers
            if dst.role is flow.destination and dst.hostname != src.hostname
        ]
    order = {name: i for i, name in enumerate([MANAGER, *(s.hostname for s in servers)])}
    return sorted(pairs, key=lambda p: (order[p.source], order[p.destination], p.port))


def allow_rule(source_address: str | None, port: int) -> str:
    """The nftables rule, run on the destination, that accepts ``port`` from the source."""
    match = ""
    if source_address:
        try:
            family = "ip6" if ipaddress.ip_address(source_address).version == 6 else "ip"
        except ValueError:
            family = "ip"
        match = f"{family} saddr {source_address} "
    return f"nft insert rule inet filter input {match}tcp dport {port} accept"


async def check_reachability(
    access: HostAccess,
    servers: Sequence[ServerView],
    emit: Emit = ignore,
    *,
    timeout: float = PROBE_TIMEOUT,
) -> Matrix:
    pairs = member_pairs(servers)
    by_name = {s.hostname: s for s in servers}
    limit = access.settings.parallel_hosts
    connected = await run_on_hosts(list(by_name), access.connection, limit=limit)
    reachable = set(connected.succeeded)

    wanted: dict[str, set[int]] = {}
    targets: dict[str, list[tuple[str, int]]] = {}
    for p in pairs:
        if p.source != MANAGER:
            wanted.setdefault(p.destination, set()).add(p.port)
            targets.setdefault(p.source, []).append((p.address, p.port))

    listening: dict[str, netprobe.Listening] = {}

    async def listen(host: str) -> netprobe.Listening:
        conn = await access.connection(host)
        command = netprobe.listen_command(wanted[host], LISTENER_LIFETIME)
        # Noted at once, so a check cancelled while others start still removes it.
        held = listening[host] = netprobe.parse_listening((await conn.run(command)).check().stdout)
        return held

    async def probe(host: str) -> dict[tuple[str, int], tuple[str, str]]:
        conn = await access.connection(host)
        command = netprobe.probe_command(list(dict.fromkeys(targets[host])), timeout)
        ran = await conn.run(command, timeout=timeout + access.settings.command_timeout)
        return netprobe.parse_probe(ran.check().stdout)

    try:
        started = await run_on_hosts([h for h in wanted if h in reachable], listen, limit=limit)
        probed = await run_on_hosts([h for h in targets if h in reachable], probe, limit=limit)
    finally:
        await _remove_listeners(access, listening, emit, limit)

    results: list[PairResult] = []
    for p in pairs:
        if p.source == MANAGER:
            results.append(_ssh_row(p, connected.failed.get(p.destination)))
            continue
        source = by_name[p.source]
        if p.source not in reachable:
            why = f"not tried: the manager cannot reach {p.source}"
            results.append(PairResult(p, State.ERROR, why))
        elif p.source in probed.failed:
            why = f"the probe failed on {p.source}: {_reason(probed.failed[p.source])}"
            results.append(PairResult(p, State.ERROR, why))
        else:
            answer = probed.succeeded[p.source].get((p.address, p.port))
            held = listening.get(p.destination)
            why_not = started.failed.get(p.destination)
            results.append(_member_row(p, source.address, answer, held, why_not))
    return Matrix((MANAGER, *by_name), tuple(results))


async def _remove_listeners(
    access: HostAccess, listening: dict[str, netprobe.Listening], emit: Emit, limit: int
) -> None:
    async def stop(host: str) -> None:
        pid = listening[host].pid
        if pid is not None:
            conn = await access.connection(host)
            (await conn.run(netprobe.stop_command(pid))).check()

    stopped = await run_on_hosts(list(listening), stop, limit=limit)
    for host, exc in stopped.failed.items():
        message = (
            f"warn: the temporary listener could not be removed ({_reason(exc)}); "
            f"it exits by itself within {LISTENER_LIFETIME:g} s"
        )
        emit(Event(EventKind.CHECK, message, host=host, step="network"))


def _member_row(
    pair: Pair,
    source_address: str,
    answer: tuple[str, str] | None,
    held: netprobe.Listening | None,
    why_not: BaseException | None,
) -> PairResult:
    if answer is None:
        return PairResult(pair, State.ERROR, "the probe printed no answer for this pair")
    state, detail = State(answer[0]), answer[1]
    ours = held is not None and pair.port in held.ports
    if state is State.OPEN:
        who = "the temporary listener" if ours else "the service"
        return PairResult(pair, state, f"{who} on {pair.destination} answered")
    rule = allow_rule(source_address, pair.port)
    if state is State.FILTERED:
        return PairResult(pair, state, f"{detail}: a firewall drops it", rule)
    if state is State.ERROR:
        return PairResult(pair, state, detail)
    # Refused: who should have answered decides whether it is a firewall's reset.
    if ours:
        why = "refused while a temporary listener was up: a firewall rejects it"
        return PairResult(pair, state, why, rule)
    if held is not None and pair.port in held.busy:
        why = (
            f"refused although a service holds port {pair.port} on {pair.destination}: "
            f"it does not accept connections on {pair.address}, or a firewall rejects it"
        )
        return PairResult(pair, state, why, rule)
    if held is not None and pair.port in held.failed:
        cause = held.failed[pair.port]
    elif why_not is not None:
        cause = _reason(why_not)
    else:
        cause = f"the manager cannot reach {pair.destination}"
    return PairResult(pair, state, f"refused; no temporary listener could be started ({cause})")


def _ssh_row(pair: Pair, failure: BaseException | None) -> PairResult:
    if failure is None:
        return PairResult(pair, State.OPEN, "the manager's SSH connection is up")
    rule = allow_rule(_local_address_towards(pair.address, pair.port), pair.port)
    if isinstance(failure, ConnectTimeout):
        return PairResult(pair, State.FILTERED, f"{_reason(failure)}: a firewall drops it", rule)
    if isinstance(failure, HostUnreachable):
        if os.strerror(errno.ECONNREFUSED) in failure.message:
            return PairResult(pair, State.REFUSED, _reason(failure), rule)
        return PairResult(pair, State.FILTERED, _reason(failure), rule)
    if isinstance(failure, RemoteError):  # host key, login: the port answered
        return PairResult(pair, State.OPEN, f"the port answered; {_reason(failure)}")
    return PairResult(pair, State.ERROR, _reason(failure))


def _local_address_towards(address: str, port: int) -> str | None:
    """The manager's own address on the route to ``address`` (no packet is sent)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        return None  # a name: resolving it here would block; the rule names no source
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        try:
            udp.connect((address, port))
        except OSError:
            return None
        return str(udp.getsockname()[0])


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else repr(exc)
