"""Parsers of NGINX's stub_status page and of the rendered upstreams file."""

from __future__ import annotations

import pytest

from clustermgr.components.lb import render
from clustermgr.components.lb.model import Backend, BackendState, Balancer
from clustermgr.facts.base import FactParseError
from clustermgr.facts.nginx import parse_stub_status, parse_upstream_members

# As nginx prints it, trailing spaces included.
STUB = "Active connections: 3 \nserver accepts handled requests\n 17 17 42 \nReading: 0 Writing: 1 Waiting: 2 \n"


def test_stub_status() -> None:
    status = parse_stub_status(STUB)
    assert status.as_dict() == {
        "active": 3,
        "accepts": 17,
        "handled": 17,
        "requests": 42,
        "reading": 0,
        "writing": 1,
        "waiting": 2,
    }


def test_stub_status_refuses_other_pages() -> None:
    with pytest.raises(FactParseError):
        parse_stub_status("<html>404</html>")


def test_upstream_members_round_trip_the_renderer() -> None:
    backends = (
        Backend("a", "10.0.0.1", 443),
        Backend("b", "10.0.0.2", 443, BackendState.DOWN),
        Backend("c", "10.0.0.3", 443, BackendState.DRAINED),
    )
    text = render.upstreams(Balancer("p", "p", backends, 443, 80, 8090))
    assert parse_upstream_members(text) == {
        "10.0.0.1:443": True,
        "10.0.0.2:443": False,
        "10.0.0.3:443": False,
    }
    assert parse_upstream_members("") == {}
