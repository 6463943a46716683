"""eventually: polls a plain or an async check until it holds, else fails saying why."""

from __future__ import annotations

import itertools

import pytest

from polling import eventually


async def test_a_plain_check_is_polled_until_truthy_and_its_value_returned() -> None:
    calls = itertools.count(1)
    assert await eventually(lambda: next(calls) >= 3 and "ready", interval=0) == "ready"
    assert next(calls) == 4


async def test_an_async_check_is_awaited() -> None:
    calls = itertools.count(1)

    async def check() -> int:
        n = next(calls)
        return n if n >= 2 else 0

    assert await eventually(check, interval=0) == 2


async def test_until_decides_and_the_accepted_value_is_returned() -> None:
    calls = itertools.count()
    found = await eventually(lambda: {"n": next(calls)}, until=lambda v: v["n"] == 2, interval=0)
    assert found == {"n": 2}


async def test_timeout_names_what_and_the_last_value() -> None:
    with pytest.raises(AssertionError) as caught:
        await eventually(lambda: [], timeout=0.05, interval=0.01, what="the list fills")
    assert str(caught.value) == "the list fills: not true after 0.05 s (last value: [])"


async def test_ignored_exceptions_mean_not_yet_and_the_last_one_is_reported() -> None:
    calls = itertools.count(1)

    def flaky() -> str:
        if next(calls) < 3:
            raise ConnectionError("refused")
        return "up"

    assert await eventually(flaky, ignore=(ConnectionError,), interval=0) == "up"

    def down() -> str:
        raise ConnectionError("refused")

    with pytest.raises(AssertionError, match=r"last exception: ConnectionError\('refused'\)"):
        await eventually(down, ignore=(ConnectionError,), timeout=0.05, interval=0.01)


async def test_other_exceptions_propagate_at_once() -> None:
    calls = itertools.count(1)

    def broken() -> bool:
        next(calls)
        raise KeyError("state")

    with pytest.raises(KeyError):
        await eventually(broken, ignore=(ConnectionError,), timeout=5)
    assert next(calls) == 2, "not retried"


async def test_show_writes_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"\(last value: 0 items\)$"):
        await eventually(list, show=lambda v: f"{len(v)} items", timeout=0, interval=0)
