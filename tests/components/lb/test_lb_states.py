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
