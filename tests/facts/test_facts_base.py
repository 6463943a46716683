from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from clustermgr.errors import ClustermgrError, CommandFailed
from clustermgr.facts import clock, ldap, os, packages, platform, ports, resources, services
from clustermgr.facts.base import Fact, FactParseError, gather, unusable
from clustermgr.remote.command import Command
from clustermgr.remote.result import Result
from facts_fixtures import FIXTURES


@dataclass
class StubConnection:
    """Answers every command with one canned result and remembers what it ran."""

    stdout: str
    exit_status: int = 0
    host: str = "idp1.example.org"
    ran: list[tuple[Command, float | None]] = field(default_factory=list)

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        self.ran.append((command, timeout))
        return Result(self.host, command, self.exit_status, self.stdout, "boom\n")

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        raise NotImplementedError

    async def get(self, path: str) -> bytes:
        raise NotImplementedError

    async def close(self) -> None:
        pass


def _words(stdout: str) -> list[str]:
    if not stdout.strip():
        raise unusable("words", stdout, "nothing printed")
    return stdout.split()


WORDS = Fact(name="words", command=Command.of("echo", "a b"), parse=_words)


async def test_gather_runs_command_and_parses_stdout() -> None:
    conn = StubConnection("a b\n")
    assert await gather(conn, WORDS, timeout=5.0) == ["a", "b"]
    assert conn.ran == [(WORDS.command, 5.0)]


async def test_gather_wraps_command_in_prefix() -> None:
    conn = StubConnection("x\n")
    await gather(conn, WORDS, prefix=("sudo", "-n"))
    ((command, _),) = conn.ran
    assert str(command) == "sudo -n sh -c 'echo '\"'\"'a b'\"'\"''"


async def test_gather_raises_on_non_zero_exit() -> None:
    with pytest.raises(CommandFailed) as info:
        await gather(StubConnection("", exit_status=2), WORDS)
    assert info.value.exit_status == 2


async def test_gather_names_the_host_when_output_is_unusable() -> None:
    with pytest.raises(FactParseError) as info:
        await gather(StubConnection("  \n"), WORDS)
    assert info.value.message.startswith("idp1.example.org: cannot read fact 'words'")
    assert info.value.hint


def test_fact_parse_error_is_a_domain_error() -> None:
    error = unusable("clock", "garbage\n" * 100, "no epoch seconds")
    assert isinstance(error, ClustermgrError)
    assert error.as_dict()["error"] == "fact_parse_error"
    assert len(error.message) < 250


def test_every_fixture_directory_belongs_to_a_fact() -> None:
    facts: list[Fact[Any]] = [
        os.OS_RELEASE,
        packages.DPKG_PACKAGES,
        packages.RPM_PACKAGES,
        services.SYSTEMD_SERVICES,
        services.SYSV_SERVICES,
        ports.LISTENING_PORTS,
        resources.disk_space_fact(),
        resources.MEMINFO,
        clock.CLOCK,
        platform.PLATFORM,
        ldap.context_csn("o=gluu"),
    ]
    assert {path.name for path in FIXTURES.iterdir()} == {fact.name for fact in facts}
