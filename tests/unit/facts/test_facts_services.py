from __future__ import annotations

from typing import Any

import pytest
from facts_fixtures import cases, check

from clustermgr.facts.services import SYSTEMD_SERVICES, SYSV_SERVICES, services_fact


@pytest.mark.parametrize("case", cases("services_systemd"))
def test_systemd(case: dict[str, Any]) -> None:
    check(SYSTEMD_SERVICES, case)


@pytest.mark.parametrize("case", cases("services_sysv"))
def test_sysv(case: dict[str, Any]) -> None:
    check(SYSV_SERVICES, case)


def test_fact_by_init_system() -> None:
    assert services_fact("systemd") is SYSTEMD_SERVICES
    assert services_fact("sysv") is SYSV_SERVICES
    with pytest.raises(ValueError, match="openrc"):
        services_fact("openrc")
