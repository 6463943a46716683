"""Which nodes serve: health probes and drains in, backend states out."""

from __future__ import annotations

import pytest

from clustermgr.components.lb.health import Probe, states
from clustermgr.components.lb.model import Backend, BackendState

UP, DOWN, DRAINED = BackendState.UP, BackendState.DOWN, BackendState.DRAINED
NODES = tuple(Backend(n, f"10.0.0.{i}", 443) for i, n in enumerate(("a", "b", "c"), 1))


def probe(name: str, healthy: bool) -> Probe:
    return Probe(name, healthy, 200 if healthy else 503, 0.01)


@pytest.mark.parametrize(
    ("healthy", "drained", "want"),
    [
        ({"a": True, "b": True, "c": True}, set(), (UP, UP, UP)),
        ({"a": True, "b": False, "c": True}, set(), (UP, DOWN, UP)),
        ({"a": True, "b": True, "c": True}, {"c"}, (UP, UP, DRAINED)),
        ({"a": True, "b": True, "c": False}, {"c"}, (UP, UP, DRAINED)),
        # every node that is not drained fails: none is taken out for failing
        ({"a": False, "b": False, "c": True}, {"c"}, (UP, UP, DRAINED)),
        ({"a": False, "b": False, "c": False}, set(), (UP, UP, UP)),
        # no probe (not checked yet): counts as healthy
        ({"a": True}, set(), (UP, UP, UP)),
    ],
)
def test_states(healthy: dict[str, bool], drained: set[str], want: tuple[BackendState]) -> None:
    probes = {n: probe(n, h) for n, h in healthy.items()}
    assert tuple(b.state for b in states(NODES, probes, drained)) == want


JOINING = BackendState.JOINING


@pytest.mark.parametrize(
    ("healthy", "want"),
    [
        # a joining node stays out, healthy or not, until the node-add admits it
        ({"a": True, "b": True, "c": True}, (UP, UP, JOINING)),
        ({"a": True, "b": False, "c": True}, (UP, DOWN, JOINING)),
        # and never counts as the node that passes: the failing members are kept in
        ({"a": False, "b": False, "c": True}, (UP, UP, JOINING)),
    ],
)
def test_a_joining_node_is_sent_nothing(
    healthy: dict[str, bool], want: tuple[BackendState]
) -> None:
    probes = {n: probe(n, h) for n, h in healthy.items()}
    nodes = (*NODES[:2], Backend("c", "10.0.0.3", 443, JOINING))
    got = states(nodes, probes, set())
    assert tuple(b.state for b in got) == want
    assert [b.hostname for b in got if b.serving] == [
        b.hostname for b, s in zip(got, want, strict=True) if s is UP
    ]
