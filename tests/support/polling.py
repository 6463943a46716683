"""Waiting in tests: poll a check until it holds, or fail naming what never happened."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
    until: Callable[[T], object] | None = ...,
    ignore: tuple[type[BaseException], ...] = ...,
    show: Callable[[T], str] = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    *,
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
    until: Callable[[T], object] | None = ...,
    ignore: tuple[type[BaseException], ...] = ...,
    show: Callable[[T], str] = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 15.0,
    interval: float = 0.1,
    what: str = "",
    until: Callable[[Any], object] | None = None,
    ignore: tuple[type[BaseException], ...] = (),
    show: Callable[[Any], str] = repr,
) -> Any:
    """Call ``check`` (a plain or an async callable) every ``interval`` seconds until its
    value is accepted, and return that value.

    A value is accepted when it is truthy, or, given ``until``, when ``until(value)`` is.
    An exception of a type in ``ignore`` counts as "not yet"; any other propagates.
    After ``timeout`` seconds an :class:`AssertionError` names ``what`` (or the check)
    and the last value (as ``show`` writes it) or exception seen.  The check always runs
    at least once.
    """
    accept = bool if until is None else until
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
        except ignore as error:
            last = f"last exception: {error!r}"
        else:
            if accept(value):
                return value
            last = f"last value: {show(value)}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or check}: not true after {timeout:g} s ({last})")
        await asyncio.sleep(interval)
