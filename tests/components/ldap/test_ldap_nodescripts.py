"""The scripts that run on a node: each carries the one LDIF reader and runs without clustermgr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from clustermgr.components.ldap import agreementcheck, digest, hostcheck
from clustermgr.facts.ldif import node_script


@pytest.mark.parametrize("module", [hostcheck, digest, agreementcheck])
def test_node_scripts_carry_the_reader_and_no_import_of_the_package(module: ModuleType) -> None:
    source = node_script(module)
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "clustermgr" in line]
    assert source.count("from __future__ import annotations") == 1
    compile(source, module.__name__, "exec")


def test_hostcheck_runs_standalone(tmp_path: Path) -> None:
    """Isolated python (no clustermgr on the path) against a fake ldapsearch."""
    fake = tmp_path / "ldapsearch"
    fake.write_text("#!/bin/sh\nprintf 'dn: cn=config\\nolcServerID: 1 ldap://a/\\n'\n")
    fake.chmod(0o755)
    spec = '[{"base": "cn=config", "attr": "olcServerID", "want": [["1"]]}]'
    run = [sys.executable, "-I", "-c", node_script(hostcheck)]
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    ok = subprocess.run(run, input=spec, env=env, capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    missing = spec.replace('["1"]', '["2"]')
    no = subprocess.run(run, input=missing, env=env, capture_output=True, text=True, check=False)
    assert no.returncode == 1
