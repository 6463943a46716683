"""CSN parsing and per-pair catch-up / lag, from contextCSN values alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clustermgr.components.ldap.csn import Csn, PairStatus, by_server_id, pairs


def c(stamp: str, sid: int, count: int = 0) -> str:
    return f"{stamp}Z#{count:06x}#{sid:03x}#000000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "20261127015000.123456Z#000000#001#000000",
            Csn(datetime(2026, 11, 27, 1, 50, 0, 123456, UTC), 0, 0, 1),
        ),
        (
            "20261127015000.000000Z#00000a#0ff#000002",
            Csn(datetime(2026, 11, 27, 1, 50, tzinfo=UTC), 10, 2, 255),
        ),
    ],
)
def test_parse(text: str, expected: Csn) -> None:
    assert Csn.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "20261127015000.123456Z#000000#001", "yesterday#0#1#0", "2026#0#zz#0"]
)
def test_parse_refuses_what_is_not_a_csn(text: str) -> None:
    with pytest.raises(ValueError):
        Csn.parse(text)


def test_count_orders_within_one_microsecond() -> None:
    assert Csn.parse(c("20261127015000.000001", 1, 2)) > Csn.parse(c("20261127015000.000001", 1, 1))


def test_by_server_id_skips_garbage() -> None:
    got = by_server_id({"001": c("20261127015000.000000", 1), "x": "garbage"})
    assert list(got) == [1]


T0, T1 = "20261127015000.000000", "20261127015002.500000"
IDS = {"a": 1, "b": 2, "c": 3}


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        # Everyone has everything.
        (
            {h: {"1": c(T1, 1), "2": c(T0, 2)} for h in "abc"},
            {
                ("a", "b"): (True, 0.0),
                ("a", "c"): (True, None),  # c never wrote: nothing to catch up on
                ("b", "a"): (True, 0.0),
                ("b", "c"): (True, None),
                ("c", "a"): (True, 0.0),
                ("c", "b"): (True, 0.0),
            },
        ),
        # c is 2.5 s behind a, and has nothing of b yet.
        (
            {
                "a": {"1": c(T1, 1), "2": c(T0, 2)},
                "b": {"1": c(T1, 1), "2": c(T0, 2)},
                "c": {"1": c(T0, 1)},
            },
            {
                ("a", "b"): (True, 0.0),
                ("a", "c"): (True, None),
                ("b", "a"): (True, 0.0),
                ("b", "c"): (True, None),
                ("c", "a"): (False, 2.5),
                ("c", "b"): (False, None),
            },
        ),
    ],
)
def test_pairs(
    nodes: dict[str, dict[str, str]], expected: dict[tuple[str, str], tuple[bool, float | None]]
) -> None:
    got = pairs({h: by_server_id(v) for h, v in nodes.items()}, IDS)
    assert {(p.host, p.peer): (p.caught_up, p.lag_seconds) for p in got} == expected
    assert all(p.peer_server_id == IDS[p.peer] for p in got)


def test_a_node_that_did_not_answer_is_left_out() -> None:
    got = pairs({"a": by_server_id({"2": c(T0, 2)})}, {"a": 1, "b": 2})
    assert got == [PairStatus("a", "b", 2, True, 0.0)]
