"""The oxCacheConfiguration script as the node runs it: isolated python, fake LDAP tools."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from clustermgr.components.cache import oxconfig
from clustermgr.components.cache.model import Provider
from clustermgr.redact import Secret

PASSWORD = Secret("pw-for-the-script-test", label="test")


def run(tmp_path: Path, mode: str, current: Mapping[str, object]) -> tuple[int, str]:
    """Exit status, and the LDIF given to ldapmodify ("" when not called)."""
    (tmp_path / "ldif").unlink(missing_ok=True)
    stored = base64.b64encode(json.dumps(current).encode()).decode()
    search = tmp_path / "ldapsearch"
    search.write_text(
        f"#!/bin/sh\nprintf 'dn: ou=configuration,o=gluu\\noxCacheConfiguration:: {stored}\\n'\n"
    )
    modify = tmp_path / "ldapmodify"
    modify.write_text(f'#!/bin/sh\necho "$*" > "{tmp_path}/args"; cat > "{tmp_path}/ldif"\n')
    for tool in (search, modify):
        tool.chmod(0o755)
    command = oxconfig.command(mode, Provider.REDIS, PASSWORD)
    done = subprocess.run(
        [sys.executable, "-I", "-c", oxconfig.SCRIPT, mode, oxconfig.CONFIG_DN],
        input=command.stdin_bytes(),
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        check=False,
    )
    ldif = tmp_path / "ldif"
    return done.returncode, ldif.read_text() if ldif.exists() else ""


def test_check_and_apply_keep_other_settings(tmp_path: Path) -> None:
    current = {
        "cacheProviderType": "IN_MEMORY",
        "inMemoryConfiguration": {"defaultPutExpiration": 60},
    }
    assert run(tmp_path, "check", current) == (1, "")
    status, ldif = run(tmp_path, "apply", current)
    assert status == 0
    assert (tmp_path / "args").read_text().split() == ["-Q", "-Y", "EXTERNAL", "-H", "ldapi:///"]
    value = ldif.split("oxCacheConfiguration:: ", 1)[1].split("\n", 1)[0]
    written = json.loads(base64.b64decode(value))
    assert written["cacheProviderType"] == "REDIS"
    assert written["inMemoryConfiguration"] == {"defaultPutExpiration": 60}
    assert written["redisConfiguration"]["servers"] == oxconfig.SERVERS
    assert run(tmp_path, "check", written) == (0, "")


def test_the_provider_in_use_is_read_as_the_identity_servers_see_it(tmp_path: Path) -> None:
    """The fact's own script on the same fake ldapsearch: REDIS after the cutover, what
    the identity server had before it, "" when nothing is set."""
    for current, expected in (
        ({"cacheProviderType": "REDIS"}, "REDIS"),
        ({"cacheProviderType": "IN_MEMORY"}, "IN_MEMORY"),
        ({}, ""),
    ):
        run(tmp_path, "check", current)  # writes the fake tools for ``current``
        script, dn = oxconfig.IN_USE.command.parts[2:4]
        assert isinstance(script, str) and isinstance(dn, str)
        done = subprocess.run(
            [sys.executable, "-I", "-c", script, dn],
            env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert oxconfig.IN_USE.parse(done.stdout) == expected
