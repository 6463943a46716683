from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clustermgr.facts.platform import PLATFORM, PROBE_SCRIPT, Platform, parse_platform
from facts_fixtures import cases, check


@pytest.mark.parametrize("case", cases("platform"))
def test_platform(case: dict[str, Any]) -> None:
    check(PLATFORM, case)


ROOT = Platform(uid=0, sudo=False, init="systemd", gluu_root="/opt/gluu-server", hostname="a")
SUDOER = Platform(uid=1000, sudo=True, init="sysv", gluu_root=None, hostname="b")
NOBODY = Platform(uid=1001, sudo=False, init="unknown", gluu_root=None, hostname="c")


@pytest.mark.parametrize(
    ("platform", "is_root", "can_escalate", "prefix"),
    [
        (ROOT, True, True, ()),
        (SUDOER, False, True, ("sudo", "-n")),
        (NOBODY, False, False, ("sudo", "-n")),
    ],
)
def test_privileges(
    platform: Platform, is_root: bool, can_escalate: bool, prefix: tuple[str, ...]
) -> None:
    assert platform.is_root is is_root
    assert platform.can_escalate is can_escalate
    assert platform.privilege_prefix() == prefix


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        (ROOT, "systemctl restart oxauth"),
        (SUDOER, "service oxauth restart"),
        (NOBODY, "service oxauth restart"),
    ],
)
def test_service_command(platform: Platform, expected: str) -> None:
    assert str(platform.services.command("oxauth", "restart")) == expected


def test_service_command_quotes_its_inputs() -> None:
    assert str(ROOT.services.command("x; reboot", "stop")) == "systemctl stop 'x; reboot'"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [(ROOT, ("chroot", "/opt/gluu-server")), (SUDOER, ())],
)
def test_gluu_prefix(platform: Platform, expected: tuple[str, ...]) -> None:
    assert platform.gluu_prefix() == expected


def _probe(opt: Path) -> Platform:
    """Run the real probe script locally, with /opt pointed at a scratch directory."""
    body = PROBE_SCRIPT.replace("/opt/", f"{opt}/")
    done = subprocess.run(["sh", "-c", body, "sh"], capture_output=True, text=True, check=True)
    return parse_platform(done.stdout)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], None),
        (["gluu-server-4.4.0", "gluu-server-4.5.10", "gluu-server-4.5.2"], "gluu-server-4.5.10"),
        (["gluu-server-4.5.2", "gluu-server"], "gluu-server"),
    ],
)
def test_probe_script_finds_gluu_root(
    tmp_path: Path, entries: list[str], expected: str | None
) -> None:
    for name in entries:
        shell = tmp_path / name / "bin" / "sh"
        shell.parent.mkdir(parents=True)
        shell.touch(mode=0o755)
    (tmp_path / "gluu-server-9.9.9").touch()  # a file, never a chroot
    (tmp_path / "gluu-server-9.9.8" / "bin").mkdir(parents=True)  # no shell: no chroot
    found = _probe(tmp_path)
    assert found.gluu_root == (str(tmp_path / expected) if expected else None)
    assert found.uid >= 0
    assert found.hostname


def test_a_package_folder_without_a_shell_is_no_chroot(tmp_path: Path) -> None:
    """A package installed under /opt/gluu-server (its programs, no root filesystem), as
    the lab's is: commands run on the host itself, not through ``chroot``."""
    (tmp_path / "gluu-server" / "bin").mkdir(parents=True)
    (tmp_path / "gluu-server" / "bin" / "setup").touch(mode=0o755)
    assert _probe(tmp_path).gluu_root is None
