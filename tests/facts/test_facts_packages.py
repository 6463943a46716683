from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from clustermgr.facts.packages import (
    DPKG_PACKAGES,
    RPM_PACKAGES,
    installed_packages_fact,
    missing,
)
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("packages_dpkg"))
def test_dpkg(case: dict[str, Any]) -> None:
    check(DPKG_PACKAGES, case)


@pytest.mark.parametrize("case", cases("packages_rpm"))
def test_rpm(case: dict[str, Any]) -> None:
    check(RPM_PACKAGES, case)


def test_fact_by_family() -> None:
    assert installed_packages_fact("debian") is DPKG_PACKAGES
    assert installed_packages_fact("rhel") is RPM_PACKAGES
    with pytest.raises(ValueError, match="unknown"):
        installed_packages_fact("unknown")


INSTALLED = {"apache2": "2.4.52-1ubuntu4.9", "redis-server": "5:6.0.16-1ubuntu1", "curl": "7.81.0"}


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ([], []),
        (["apache2", "curl"], []),
        (["stunnel4", "apache2"], ["stunnel4"]),
        (["zip", "unzip", "zip", "apache2"], ["unzip", "zip"]),
        (iter(["b", "a"]), ["a", "b"]),
    ],
)
def test_missing(wanted: Iterable[str], expected: list[str]) -> None:
    assert missing(INSTALLED, wanted) == expected


def test_missing_against_nothing_installed() -> None:
    assert missing({}, ["openssl", "curl"]) == ["curl", "openssl"]
