"""A lab host reads none of the manager's data, as a real server could not.

The manager that runs the lab keeps its data in the test session's folder; another
manager on the same machine keeps its own in the default data folder of a manager
run as root (its key, its database, its lab's secrets).  From inside a lab host
neither is there, nor any top-level folder of the machine but the system's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from clustermgr.lab import service
from clustermgr.lab.net import LabError
from clustermgr.settings import Settings
from labfixture import Lab

pytestmark = pytest.mark.integration

#: Where a manager run as root keeps its data when nothing else is set.
DEFAULT_DATA_DIR = Path("/var/lib/clustermgr")


@contextlib.contextmanager
def another_manager() -> Iterator[list[Path]]:
    """A manager's data as the default folder holds it (in a folder of this test's own
    inside it, so no real manager's files are touched); its files."""
    created = not DEFAULT_DATA_DIR.exists()
    DEFAULT_DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = DEFAULT_DATA_DIR / f"isolation-test-{os.getpid()}-{secrets.token_hex(4)}"
    (folder / "lab").mkdir(mode=0o700, parents=True)
    files = [folder / "secret.key", folder / "clustermgr.db", folder / "lab" / "secrets.json"]
    for path in files:
        path.write_text(f"not for the nodes: {path.name}\n")
    try:
        yield files
    finally:
        shutil.rmtree(folder)
        if created:
            with contextlib.suppress(OSError):  # another session's folder may be there now
                DEFAULT_DATA_DIR.rmdir()


def own_files(lab: Lab) -> list[Path]:
    settings: Settings = lab.settings
    return [
        settings.effective_secret_key_file,
        Path(settings.effective_database_url.removeprefix("sqlite:///")),
        lab.config.apt_dir / "signing-key.asc",
    ]


async def visible(lab: Lab, host: str, paths: list[str]) -> list[str]:
    """Those of ``paths`` that ``host`` can read."""
    out = await lab.sh(
        host, 'for p in "$@"; do cat "$p" >/dev/null 2>&1 && echo "$p"; done; true', *paths
    )
    return out.split()


async def test_no_manager_data_is_readable_from_a_lab_host(lab: Lab) -> None:
    checkout = Path(__file__).resolve().parents[2] / "pyproject.toml"
    with another_manager() as theirs:
        mine = own_files(lab)
        assert all(p.exists() for p in [*theirs, *mine, checkout]), "readable on the machine"
        paths = [str(p) for p in [*theirs, *mine, checkout]]
        for host in ("idp1", "proxy1"):
            assert await visible(lab, host, paths) == [], host
            # the system's files are there, and the host's own
            assert await visible(lab, host, ["/etc/os-release", "/etc/hostname"]) == [
                "/etc/os-release",
                "/etc/hostname",
            ]


async def test_a_host_reads_only_the_package_lists_it_fetched(lab: Lab) -> None:
    """The machine's apt lists are not a host's: apt there parses only the lab repository's."""
    machine = {p.name for p in Path("/var/lib/apt/lists").iterdir() if "_dists_" in p.name}
    if not machine:
        pytest.skip("this machine has no apt package lists to hide")
    names = (await lab.sh("idp1", "ls /var/lib/apt/lists")).split()
    lists = [name for name in names if "_dists_" in name]
    repository = urlsplit(lab.config.apt_repo.url).netloc
    assert lists, "the install refreshed the lab repository's lists on the host"
    assert all(name.startswith(f"{repository}_dists_") for name in lists), lists
    assert not machine & set(names)


def test_every_data_place_of_the_manager_is_hidden(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key_file=tmp_path / "keys" / "manager.key",
        database_url=f"sqlite:///{tmp_path / 'db' / 'inventory.db'}",
    )
    config = service.load_config(tmp_path / "lab")
    hidden = service.hidden_from_hosts(config, settings)
    for path in (
        settings.data_dir,
        tmp_path / "keys" / "manager.key",
        tmp_path / "db" / "inventory.db",
        config.state_dir,
        DEFAULT_DATA_DIR,
        Path("/root"),
    ):
        assert str(path) in hidden, path
    if Path("/home").exists():
        assert "/home" in hidden
    assert not {"/usr", "/etc", "/var", "/bin"} & set(hidden)


def test_a_data_folder_every_host_needs_is_refused(tmp_path: Path) -> None:
    config = service.load_config(tmp_path / "lab")
    with pytest.raises(LabError, match="every lab host needs"):
        service.hidden_from_hosts(config, Settings(data_dir=Path("/etc")))
