"""Loading and checking the recorded fact fixtures in ``fixtures/<fact>/<case>.json``.

Each file holds the ``command`` a fact must run (masked form), the ``output``
recorded from a real tool (or crafted to look like one, see its ``note``), and
either the ``parsed`` value as JSON or an ``error`` the parser must raise.
Facts that take arguments read them from ``args``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from clustermgr.facts.base import Fact, FactParseError

FIXTURES = Path(__file__).resolve().parents[1] / "facts" / "fixtures"


def cases(fact_name: str) -> list[Any]:
    """One ``pytest.param`` per fixture file of ``fact_name``, with the case name as id."""
    files = sorted((FIXTURES / fact_name).glob("*.json"))
    assert files, f"no fixtures for fact {fact_name!r}"
    return [pytest.param(json.loads(path.read_text()), id=path.stem) for path in files]


def jsonable(value: Any) -> Any:
    """The parsed value as JSON would hold it: dataclasses as dicts, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def check(fact: Fact[Any], case: Mapping[str, Any]) -> None:
    """Assert that ``fact`` runs the recorded command and parses the output as recorded.

    Messages are spelled out because pytest rewrites asserts only in test modules.
    """
    assert (FIXTURES / fact.name).is_dir(), f"fact {fact.name!r} has no fixture directory"
    command = str(fact.command)
    assert command == case["command"], f"command {command!r} != {case['command']!r}"
    if "error" in case:
        with pytest.raises(FactParseError, match=re.escape(case["error"])):
            fact.parse(case["output"])
    else:
        parsed = jsonable(fact.parse(case["output"]))
        assert parsed == case["parsed"], f"parsed {parsed!r} != {case['parsed']!r}"
