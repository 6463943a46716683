"""The remote halves of the reachability check: a temporary listener and a connect probe.

Both are small ``python3`` programs run over SSH, with pure parsers of what they
print, so the parsing is tested without a server.

The listener binds every port it is given that is free (on all addresses), says
which it holds and which are taken already, then forks into the background and
accepts and closes connections until its lifetime ends; its PID is printed so
the caller can stop it early.  Its command line carries :data:`MARKER`, so a stop
never kills a process that merely reused the PID.

The probe tries a TCP connection to each target at once (one thread each) and
prints one line per target: ``open``, ``refused`` (a reset: nothing listens, or
a firewall rejects), ``filtered`` (no answer in time, or an ICMP error: a
firewall drops it or the route is missing) or ``error`` (the name does not
resolve, or another local failure).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from clustermgr.facts.base import unusable
from clustermgr.remote.command import Command

#: On the command line of every temporary listener.
MARKER = "clustermgr-preflight-listener"

_LISTEN = r"""
import errno, os, select, socket, sys, time
lifetime, ports = float(sys.argv[2]), [int(p) for p in sys.argv[3:]]
six = socket.has_dualstack_ipv6()
family = socket.AF_INET6 if six else socket.AF_INET
held = []
for port in ports:
    try:
        held.append(socket.create_server(("", port), family=family, dualstack_ipv6=six))
        print("listening", port)
    except OSError as exc:
        print("busy" if exc.errno == errno.EADDRINUSE else "failed", port, exc.strerror)
sys.stdout.flush()
if held:
    pid = os.fork()
    if pid:
        print("pid", pid)
        sys.stdout.flush()
        os._exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    end = time.monotonic() + lifetime
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select(held, [], [], left)
        for sock in ready:
            try:
                sock.accept()[0].close()
            except OSError:
                pass
"""

_STOP = f"""\
for pid; do
  if grep -qa {MARKER} "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid"; fi
done
"""

_PROBE = r"""
import concurrent.futures, socket, sys
timeout, rest = float(sys.argv[1]), sys.argv[2:]
targets = list(zip(rest[0::2], [int(p) for p in rest[1::2]]))
def probe(target):
    try:
        socket.create_connection(target, timeout=timeout).close()
        return "open", ""
    except socket.timeout:
        return "filtered", "no answer within %g s" % timeout
    except ConnectionRefusedError:
        return "refused", "connection refused"
    except socket.gaierror as exc:
        return "error", "cannot resolve the address (%s)" % exc.strerror
    except OSError as exc:
        return "filtered", exc.strerror or type(exc).__name__
with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(64, len(targets)))) as pool:
    for (address, port), (state, why) in zip(targets, pool.map(probe, targets)):
        print(address, port, state, why, sep="\t")
"""

PROBE_STATES = frozenset({"open", "refused", "filtered", "error"})


@dataclass(frozen=True)
class Listening:
    """What a temporary listener holds on one host."""

    pid: int | None
    #: Ports it listens on.
    ports: frozenset[int]
    #: Ports another process holds already.
    busy: frozenset[int]
    #: Ports it could not bind for another reason, with that reason.
    failed: dict[int, str] = field(default_factory=dict)


def listen_command(ports: Iterable[int], lifetime: float) -> Command:
    return Command.of(
        "python3", "-c", _LISTEN, MARKER, f"{lifetime:g}", *(str(p) for p in sorted(set(ports)))
    )


def parse_listening(stdout: str) -> Listening:
    pid: int | None = None
    ports: set[int] = set()
    busy: set[int] = set()
    failed: dict[int, str] = {}
    for line in stdout.splitlines():
        word, _, rest = line.partition(" ")
        number, _, reason = rest.partition(" ")
        if not number.isdigit():
            continue
        if word == "pid":
            pid = int(number)
        elif word == "listening":
            ports.add(int(number))
        elif word == "busy":
            busy.add(int(number))
        elif word == "failed":
            failed[int(number)] = reason or "cannot listen"
    if ports and pid is None:
        raise unusable("temporary listener", stdout, "it listens but printed no PID")
    return Listening(pid, frozenset(ports), frozenset(busy), failed)


def stop_command(pid: int) -> Command:
    return Command.script(_STOP, str(pid))


def probe_command(targets: Sequence[tuple[str, int]], timeout: float) -> Command:
    flat = [part for address, port in targets for part in (address, str(port))]
    return Command.of("python3", "-c", _PROBE, f"{timeout:g}", *flat)


def parse_probe(stdout: str) -> dict[tuple[str, int], tuple[str, str]]:
    """``(address, port)`` -> ``(state, detail)`` for every line the probe printed."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or not fields[1].isdigit() or fields[2] not in PROBE_STATES:
            continue
        found[(fields[0], int(fields[1]))] = (fields[2], fields[3])
    return found
