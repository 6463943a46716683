"""Running the real ``clustermgr`` command in a subprocess, as a user would.

Every run is checked for what a user must never see: a Python repr of a dict
or a list in human output (without ``--json``), and a Python warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshd import SshdHost

#: What a dict's or a list's Python repr starts with.
REPRS = ("{'", "['", '{"', "[{")


#: How a log record starts (``--verbose`` logs on stderr; they are not output for people).
LOG_LEVELS = ("DEBUG ", "INFO ", "WARNING ", "ERROR ", "CRITICAL ")


def assert_clean(args: tuple[str, ...] | list[str], stdout: str, stderr: str) -> None:
    """No warning on stderr; without ``--json``, no Python repr of a dict or list printed
    for people, on stdout or (log records aside) on stderr."""
    assert "Warning:" not in stderr, stderr
    if "--json" in args:
        return
    said = [line for line in stderr.splitlines() if not line.startswith(LOG_LEVELS)]
    for text in (stdout, "\n".join(said)):
        assert not any(r in text for r in REPRS), f"a Python repr in human output:\n{text}"


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """``clustermgr`` with its own data folder; remembers everything it printed."""

    def __init__(self, data_dir: Path, *, verbose: bool = True, **env: str) -> None:
        self.verbose = ["--verbose"] if verbose else []
        self.env = {
            **os.environ,
            "CLUSTERMGR_DATA_DIR": str(data_dir),
            "CLUSTERMGR_CONNECT_TIMEOUT": "5",
            **env,
        }
        self.env.pop("CLUSTERMGR_DATABASE_URL", None)
        self.transcript: list[str] = []

    def __call__(self, *args: str, **env: str) -> Ran:
        proc = subprocess.run(
            [sys.executable, "-m", "clustermgr", *self.verbose, *args],
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.transcript += [proc.stdout, proc.stderr]
        assert_clean(args, proc.stdout, proc.stderr)
        return Ran(proc.returncode, proc.stdout, proc.stderr)


def add_args(host: SshdHost, key: Path, cluster: str = "t", *extra: str) -> list[str]:
    return [
        "server",
        "add",
        host.target.name,
        "--cluster",
        cluster,
        "--role",
        "identity",
        "--address",
        host.target.address,
        "--port",
        str(host.target.port),
        "--user",
        host.target.username,
        "--ssh-key",
        str(key),
        *extra,
    ]
