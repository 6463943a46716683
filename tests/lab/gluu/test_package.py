"""The gluu-server package as dpkg sees it, and its setup program's checks, off any node."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clustermgr.lab.gluu import node
from clustermgr.lab.gluu.package import (
    DEPENDS,
    GLUU_VERSION,
    PACKAGE_NAME,
    build_deb,
    deb_filename,
    postrm,
)
from clustermgr.lab.gluu.setup.properties import format_properties
from gluupackage import PROPERTIES

PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_deb(tmp_path_factory.mktemp("deb"))


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_the_control_fields(deb: Path) -> None:
    assert deb.name == deb_filename() == f"gluu-server_{GLUU_VERSION}_all.deb"
    fields = dict(
        line.split(": ", 1) for line in dpkg_deb("--field", str(deb)).splitlines() if ": " in line
    )
    assert fields["Package"] == PACKAGE_NAME
    assert fields["Version"] == GLUU_VERSION
    assert fields["Architecture"] == "all"
    depends = [d.strip().split()[0] for d in fields["Depends"].split(",")]
    assert {"slapd", "ldap-utils", "nginx", "python3", "openssl"} <= set(depends)
    assert len(depends) == len(DEPENDS)
    info = dpkg_deb("--info", str(deb))
    assert all(script in info for script in ("postinst", "prerm", "postrm"))


def test_the_contents_owned_by_root(deb: Path) -> None:
    rows = [line.split() for line in dpkg_deb("--contents", str(deb)).splitlines()]
    files = {row[5].lstrip("."): (row[0], row[1]) for row in rows if row[0].startswith("-")}
    assert files == {
        node.SETUP_PROGRAM: ("-rwxr-xr-x", "root/root"),
        node.PACKAGE_APP: ("-rw-r--r--", "root/root"),
    }


def test_two_builds_are_byte_identical(deb: Path, tmp_path: Path) -> None:
    assert build_deb(tmp_path).read_bytes() == deb.read_bytes()


def test_the_maintainer_scripts_are_valid_shell(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--control", str(deb), str(tmp_path)], check=True)
    for name in ("postinst", "prerm", "postrm"):
        subprocess.run(["sh", "-n", str(tmp_path / name)], check=True)
    purge = (tmp_path / "postrm").read_text()
    assert purge == postrm()
    for path in (node.DB_DIR, node.GLUU_ETC, node.CERTS_DIR, node.NGINX_SITE):
        assert path in purge


@pytest.fixture(scope="module")
def setup_program(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root / node.SETUP_PROGRAM.lstrip("/")


def run_setup(program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The setup program as the node runs it (its shebang: Debian's python3, isolated)."""
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"countryCode": "usa"}, "countryCode: 'usa' is not a two-letter code"),
        ({"ldapPass": "s3cr"}, "ldapPass: must be at least 6 characters"),
        ({"hostname": "localhost"}, "hostname: 'localhost' is not a fully qualified DNS name"),
    ],
)
def test_bad_properties_exit_2_naming_the_key(
    setup_program: Path, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    assert setup_program.read_bytes().startswith(b"#!/usr/bin/python3 -I\n")
    properties = tmp_path / "setup.properties"
    properties.write_text(format_properties({**PROPERTIES, **change}))
    done = run_setup(setup_program, str(properties))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "s3cr" not in done.stderr + done.stdout


def test_usage_and_unreadable_files_exit_2(setup_program: Path, tmp_path: Path) -> None:
    assert run_setup(setup_program).returncode == 2
    missing = run_setup(setup_program, str(tmp_path / "missing.properties"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    binary = tmp_path / "binary.properties"
    binary.write_bytes(b"ldapPass=\xff\xfe\n")
    assert "not UTF-8" in run_setup(setup_program, str(binary)).stderr
