from __future__ import annotations

from typing import Any

import pytest

from clustermgr.facts.resources import MEMINFO, disk_space_fact
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("disk_space"))
def test_disk_space(case: dict[str, Any]) -> None:
    check(disk_space_fact(**case["args"]), case)


@pytest.mark.parametrize("case", cases("meminfo"))
def test_meminfo(case: dict[str, Any]) -> None:
    check(MEMINFO, case)


def test_disk_space_path_is_one_quoted_argument() -> None:
    fact = disk_space_fact("-h; rm -rf $HOME")
    assert str(fact.command) == "df -P -B1 -- '-h; rm -rf $HOME'"


def test_disk_space_defaults_to_root() -> None:
    assert str(disk_space_fact().command) == "df -P -B1 -- /"
