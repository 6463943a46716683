from __future__ import annotations

from typing import Any

import pytest

from clustermgr.facts.os import OS_RELEASE, SUPPORTED, OsInfo, is_supported
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("os_release"))
def test_os_release(case: dict[str, Any]) -> None:
    check(OS_RELEASE, case)


@pytest.mark.parametrize(
    ("id", "id_like", "family"),
    [
        ("debian", (), "debian"),
        ("ubuntu", ("debian",), "debian"),
        ("linuxmint", ("ubuntu", "debian"), "debian"),
        ("elementary", ("ubuntu",), "debian"),
        ("rhel", ("fedora",), "rhel"),
        ("rocky", ("rhel", "centos", "fedora"), "rhel"),
        ("almalinux", ("rhel", "centos", "fedora"), "rhel"),
        ("centos", ("rhel", "fedora"), "rhel"),
        ("fedora", (), "rhel"),
        ("ol", ("fedora",), "rhel"),
        ("opensuse-leap", ("suse", "opensuse"), "unknown"),
        ("alpine", (), "unknown"),
    ],
)
def test_family(id: str, id_like: tuple[str, ...], family: str) -> None:
    assert OsInfo(id, "1", "x", id_like).family == family


@pytest.mark.parametrize(
    ("id", "version_id", "supported"),
    [
        ("debian", "11", True),
        ("debian", "12", True),
        ("debian", "10", False),
        ("debian", "", False),  # testing/sid carry no VERSION_ID
        ("ubuntu", "20.04", True),
        ("ubuntu", "22.04", True),
        ("ubuntu", "24.04", True),
        ("ubuntu", "22.10", False),
        ("ubuntu", "18.04", False),
        ("ubuntu", "22", False),
        ("rhel", "8.10", True),
        ("rhel", "9.4", True),
        ("rocky", "9.3", True),
        ("almalinux", "8.9", True),
        ("centos", "8", True),
        ("centos", "9", True),
        ("centos", "7", False),
        ("rocky", "10.0", False),
        ("rocky", "89", False),
        ("fedora", "40", False),
        ("linuxmint", "21.3", False),
    ],
)
def test_is_supported(id: str, version_id: str, supported: bool) -> None:
    assert is_supported(OsInfo(id, version_id, "x")) is supported


def test_supported_table_only_names_known_families() -> None:
    assert {OsInfo(id, "", "").family for id in SUPPORTED} == {"debian", "rhel"}
