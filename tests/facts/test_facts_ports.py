from __future__ import annotations

from typing import Any

import pytest

from clustermgr.facts.ports import LISTENING_PORTS, Listener, holders
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("ports"))
def test_ports(case: dict[str, Any]) -> None:
    check(LISTENING_PORTS, case)


LISTENERS = [
    Listener("0.0.0.0", 22, ("sshd",)),
    Listener("::", 22, ("sshd",)),
    Listener("127.0.0.1", 6379, ("redis-server",)),
    Listener("::1", 6379, ("stunnel4",)),
    Listener("0.0.0.0", 2024),
]


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (22, {"sshd"}),
        (6379, {"redis-server", "stunnel4"}),
        (2024, set()),  # listening, but ss could not say who
        (443, set()),
    ],
)
def test_holders(port: int, expected: set[str]) -> None:
    assert holders(LISTENERS, port) == expected


@pytest.mark.parametrize(
    ("address", "wildcard"),
    [("0.0.0.0", True), ("::", True), ("*", True), ("127.0.0.1", False), ("::1", False)],
)
def test_is_wildcard(address: str, wildcard: bool) -> None:
    assert Listener(address, 80).is_wildcard is wildcard
