"""The entry points start without third-party warnings; other warnings still show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*argv: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERMGR_DATA_DIR": str(data_dir)}
    env.pop("CLUSTERMGR_DATABASE_URL", None)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("-m", "clustermgr", "--help"),
        ("-m", "clustermgr", "db", "status"),
        ("-m", "clustermgr", "lb", "alerts", "--help"),
        ("-c", "import clustermgr.jobs.worker"),
    ],
    ids=["help", "db-status", "component-help", "worker"],
)
def test_an_entry_point_prints_no_warning(argv: tuple[str, ...], tmp_path: Path) -> None:
    ran = run(*argv, data_dir=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Warning" not in ran.stderr, ran.stderr
    assert ran.stderr == ""


def test_only_asyncssh_is_silenced(tmp_path: Path) -> None:
    """The same category raised by any other module still reaches the user."""
    ran = run(
        "-c",
        "import warnings, clustermgr.quiet\n"
        "from cryptography.utils import CryptographyDeprecationWarning as C\n"
        "warnings.warn('ours', C)\n"
        "warnings.warn_explicit('theirs', C, 'x.py', 1, module='asyncssh.crypto.misc')\n"
        "warnings.warn_explicit('other', UserWarning, 'x.py', 1, module='asyncssh.misc')\n",
        data_dir=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert "CryptographyDeprecationWarning: ours" in ran.stderr
    assert "UserWarning: other" in ran.stderr
    assert "theirs" not in ran.stderr
