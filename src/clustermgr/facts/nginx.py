"""NGINX on the proxy: its own counters (stub_status) and what its upstreams file says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clustermgr.facts.base import Fact, unusable
from clustermgr.remote.command import Command

# The proxy has python3 (a base package); curl may be missing.
_FETCH = """\
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.stdout.write(r.read().decode())
"""


@dataclass(frozen=True)
class StubStatus:
    active: int
    accepts: int
    handled: int
    requests: int
    reading: int
    writing: int
    waiting: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


_STUB = re.compile(
    r"Active connections:\s*(\d+)\s*\n\s*server accepts handled requests\s*\n"
    r"\s*(\d+)\s+(\d+)\s+(\d+)\s*\n\s*Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)"
)


def parse_stub_status(stdout: str) -> StubStatus:
    found = _STUB.search(stdout)
    if not found:
        raise unusable("nginx stub_status", stdout, "not the stub_status format")
    return StubStatus(*(int(v) for v in found.groups()))


def stub_status(port: int, path: str) -> Fact[StubStatus]:
    """Read on the proxy itself: stub_status listens on 127.0.0.1 only."""
    return Fact(
        name="nginx_stub_status",
        command=Command.of("python3", "-c", _FETCH, f"http://127.0.0.1:{port}{path}"),
        parse=parse_stub_status,
    )


def parse_upstream_members(text: str) -> dict[str, bool]:
    """``address:port`` -> serving (not marked ``down``), from the first upstream."""
    members: dict[str, bool] = {}
    for line in text.split("}", 1)[0].splitlines():
        words = line.split("#", 1)[0].replace(";", " ").split()
        if len(words) >= 2 and words[0] == "server":
            members[words[1]] = "down" not in words[2:]
    return members


def upstreams(path: str) -> Fact[dict[str, bool]]:
    return Fact(
        name="nginx_upstreams",
        command=Command.script('cat "$1" 2>/dev/null || true', path),
        parse=parse_upstream_members,
    )
