from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from clustermgr.facts.services import (
    SYSTEMD_SERVICES,
    SYSV_SERVICES,
    ServiceControl,
    services_fact,
)
from facts_fixtures import cases, check


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


@pytest.mark.parametrize(
    ("init", "expected"),
    [
        ("systemd", "systemctl restart oxauth"),
        ("sysv", "service oxauth restart"),
        ("unknown", "service oxauth restart"),
    ],
)
def test_service_command_by_init(init: str, expected: str) -> None:
    assert str(ServiceControl(init).command("oxauth", "restart")) == expected


def test_a_script_defines_the_functions_it_calls_and_only_those() -> None:
    script = ServiceControl("sysv").script('svc_running "$1" || svc "$1" start', "nginx")
    body = script.parts[2]
    assert isinstance(body, str)
    assert body.splitlines()[:2] == [
        'svc() { service "$1" "$2"; }',
        'svc_running() { service "$1" status >/dev/null 2>&1; }',
    ]
    assert "svc_enable" not in body and "svc_restart" not in body
    assert script.parts[3:] == ("sh", "nginx")


@pytest.mark.parametrize("init", ["systemd", "sysv"])
def test_service_functions_run_in_a_shell(tmp_path: Path, init: str) -> None:
    """The functions call the init's own tools (here fakes that log their arguments)."""
    for tool in ("systemctl", "service", "update-rc.d"):
        fake = tmp_path / tool
        fake.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{tmp_path}/log"\n')
        fake.chmod(0o755)
    body = "svc_enable redis && svc_restart redis && svc redis reload"
    script = ServiceControl(init).script(body)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    subprocess.run(["sh", "-c", script.render()], env=env, check=True)
    calls = (tmp_path / "log").read_text().splitlines()
    if init == "systemd":
        assert calls == [
            "systemctl enable --quiet redis",
            "systemctl restart redis",
            "systemctl reload redis",
        ]
    else:
        assert calls == [
            "update-rc.d redis defaults",
            "update-rc.d redis enable",
            "service redis stop",
            "service redis start",
            "service redis reload",
        ]
