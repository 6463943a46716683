"""The stand-in's zipapp: what lab hosts get must be reproducible, complete and runnable."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clustermgr.lab.gluu import bundle, directory, oxauth
from clustermgr.lab.gluu.package import DEPENDS
from gluu_lab import PYTHON, write_zipapp

PACKAGE_DIR = Path(oxauth.__file__).parent


def archive(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_two_builds_are_byte_identical() -> None:
    assert bundle.oxauth_zipapp() == bundle.oxauth_zipapp()


def test_it_is_executable_with_the_lab_hosts_python() -> None:
    data = bundle.oxauth_zipapp()
    assert data.startswith(b"#!/usr/bin/python3\n")
    assert archive(data).testzip() is None


def test_it_holds_every_module_of_the_package_and_a_root_main() -> None:
    with archive(bundle.oxauth_zipapp()) as zipped:
        names = zipped.namelist()
        assert names == sorted(names)
        modules = sorted(PACKAGE_DIR.glob("*.py"))
        assert {"app.py", "cli.py", "__init__.py", "__main__.py"} <= {p.name for p in modules}
        assert names == sorted(["__main__.py", *(f"oxauth/{p.name}" for p in modules)])
        for path in modules:
            assert zipped.read(f"oxauth/{path.name}") == path.read_bytes()
        assert {info.date_time for info in zipped.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "from oxauth.cli import main" in zipped.read("__main__.py").decode()


def test_its_modules_import_only_the_stdlib_and_each_other_relatively() -> None:
    """Absolute imports of clustermgr (or of ``oxauth``) would break one of the two names;
    beyond the standard library, only what the lab package depends on (cryptography)."""
    assert "python3-cryptography" in DEPENDS
    allowed = set(sys.stdlib_module_names) | {"__future__", "cryptography"}
    with archive(bundle.oxauth_zipapp()) as zipped:
        for name in zipped.namelist():
            if not name.startswith("oxauth/"):
                continue
            for node in ast.walk(ast.parse(zipped.read(name), name)):
                if isinstance(node, ast.Import):
                    tops = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    tops = {(node.module or "").split(".")[0]}
                else:
                    continue
                assert tops <= allowed, f"{name}:{node.lineno} imports {tops - allowed}"


@pytest.mark.skipif(not os.access(PYTHON, os.X_OK), reason=f"{PYTHON} is not installed")
def test_it_runs_isolated_from_a_file(tmp_path: Path) -> None:
    pyz = write_zipapp(tmp_path)
    done = subprocess.run(
        [PYTHON, "-I", str(pyz), "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "--ldap-properties" in done.stdout
    direct = subprocess.run([str(pyz), "--help"], capture_output=True, cwd=tmp_path)
    assert direct.returncode == 0


def test_the_init_script_runs_the_installed_zipapp_isolated() -> None:
    assert directory.OXAUTH_APP == "/opt/gluu/jetty/oxauth/lab/oxauth.pyz"
    text = directory.init_script()
    assert f"APP={directory.OXAUTH_APP}\n" in text
    assert '--exec "$PYTHON" -- -I "$APP" $OXAUTH_OPTS' in text


def test_directory_re_exports_the_service_renderers() -> None:
    assert directory.init_script is oxauth.init_script
    assert directory.defaults_text is oxauth.defaults_text
