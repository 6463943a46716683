"""Which TCP ports a server listens on, and which processes hold them.

``ss -Hltnp``: no header, listening, TCP, numeric, with processes.  Processes
are shown only for sockets the caller may inspect: as a normal user, other
users' listeners (and, in containers, the host's) come without the ``users:``
part.  Run the fact with the privilege prefix to see them all.

Addresses are kept as ``ss`` prints them, minus IPv6 brackets: ``0.0.0.0``,
``::`` and ``*`` (an IPv6 socket that also accepts IPv4) are wildcards, and a
``%iface`` suffix (``127.0.0.53%lo``) names a socket bound to one interface.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clustermgr.facts.base import Fact
from clustermgr.remote.command import Command

_WILDCARDS = frozenset({"*", "0.0.0.0", "::"})  # noqa: S104 - compared, never bound
_USERS = re.compile(r"users:\((?P<list>.*)\)")
# A process name is printed in double quotes without escaping; the shortest
# match up to '",pid=' survives names with spaces, commas or parentheses.
_PROCESS = re.compile(r'\("(?P<name>.*?)",pid=\d+')


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    #: Process names, each once, in the order ``ss`` lists them.
    processes: tuple[str, ...] = ()

    @property
    def is_wildcard(self) -> bool:
        """True when the socket accepts connections on every address."""
        return self.address in _WILDCARDS


def _split_endpoint(endpoint: str) -> tuple[str, int] | None:
    address, sep, port = endpoint.rpartition(":")
    if not sep or not address or not port.isdigit():
        return None
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    return address, int(port)


def _processes(line: str) -> tuple[str, ...]:
    users = _USERS.search(line)
    if users is None:
        return ()
    names = (m["name"] for m in _PROCESS.finditer(users["list"]))
    return tuple(dict.fromkeys(names))


def parse_ss(stdout: str) -> list[Listener]:
    listeners: list[Listener] = []
    for line in stdout.splitlines():
        # State, Recv-Q, Send-Q, local address:port, peer address:port, process.
        fields = line.split()
        if len(fields) < 5 or not fields[1].isdigit() or not fields[2].isdigit():
            continue
        endpoint = _split_endpoint(fields[3])
        if endpoint is None:
            continue
        listeners.append(Listener(*endpoint, processes=_processes(line)))
    return listeners


def holders(listeners: Iterable[Listener], port: int) -> set[str]:
    """Names of the processes listening on ``port``, on any address.

    Empty when nothing listens, and also when something listens but ``ss``
    could not show who: check ``any(l.port == port ...)`` to tell them apart.
    """
    return {name for listener in listeners if listener.port == port for name in listener.processes}


LISTENING_PORTS: Fact[list[Listener]] = Fact(
    name="ports",
    command=Command.of("ss", "-Hltnp"),
    parse=parse_ss,
)
