"""The lab's apt repository off any lab: signed indexes of the package, its key kept,
its server started and stopped by PID (on a loopback address standing in for the bridge)."""

from __future__ import annotations

import gzip
import hashlib
import random
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from clustermgr.lab import aptrepo
from clustermgr.lab.config import APT_REPO_PORT, LabConfig
from clustermgr.lab.gluu.package import GLUU_VERSION
from clustermgr.lab.net import LabError


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> LabConfig:
    # A 127.x.y.0/24 "bridge": its .1 is a loopback address no other test session uses.
    subnet = f"127.{random.randrange(1, 250)}.{random.randrange(1, 250)}.0/24"
    state = tmp_path_factory.mktemp("aptrepo")
    aptrepo.publish(LabConfig(state_dir=state, prefix="cmapt", subnet=subnet))
    return LabConfig(state_dir=state, prefix="cmapt", subnet=subnet)


def verify(suite: Path, key: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    keyring = tmp_path / "keyring.gpg"
    subprocess.run(
        ["gpg", "--batch", "--yes", "--dearmor", "-o", str(keyring), str(key)], check=True
    )
    return subprocess.run(
        ["gpgv", "--keyring", str(keyring), str(suite / "InRelease")],
        capture_output=True,
        text=True,
    )


def test_the_suite_is_signed_by_the_labs_key(config: LabConfig, tmp_path: Path) -> None:
    suite = config.apt_dir / "repo" / "dists" / config.apt_repo.suite
    assert verify(suite, config.apt_repo.public_key, tmp_path).returncode == 0
    keyring = str(tmp_path / "keyring.gpg")
    detached = subprocess.run(
        ["gpgv", "--keyring", keyring, f"{suite}/Release.gpg", f"{suite}/Release"],
        capture_output=True,
    )
    assert detached.returncode == 0


def test_a_key_that_did_not_sign_it_fails(config: LabConfig, tmp_path: Path) -> None:
    other = LabConfig(state_dir=tmp_path / "other", prefix="cmother")
    aptrepo.ensure_key(other)
    suite = config.apt_dir / "repo" / "dists" / config.apt_repo.suite
    assert verify(suite, other.apt_repo.public_key, tmp_path).returncode != 0


def test_the_release_lists_each_index_with_its_checksum(config: LabConfig) -> None:
    suite = config.apt_dir / "repo" / "dists" / config.apt_repo.suite
    release = (suite / "Release").read_text()
    assert f"Suite: {config.apt_repo.suite}" in release
    assert f"Components: {config.apt_repo.component}" in release
    packages = (suite / "main/binary-all/Packages").read_bytes()
    assert gzip.decompress((suite / "main/binary-all/Packages.gz").read_bytes()) == packages
    digest = hashlib.sha256(packages).hexdigest()
    assert f" {digest} {len(packages):>8} main/binary-all/Packages\n" in release
    stanza = packages.decode()
    assert "Package: gluu-server\n" in stanza and f"Version: {GLUU_VERSION}\n" in stanza
    deb = config.apt_repo.deb
    assert f"Filename: pool/main/{deb.name}\n" in stanza
    assert f"SHA256: {hashlib.sha256(deb.read_bytes()).hexdigest()}\n" in stanza


def test_the_key_is_made_once_and_kept_private(config: LabConfig) -> None:
    public = config.apt_repo.public_key.read_bytes()
    secret = config.apt_dir / "signing-key.asc"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in secret.read_bytes() and b"PUBLIC KEY" in public
    aptrepo.publish(config)
    assert config.apt_repo.public_key.read_bytes() == public


def test_served_on_the_bridge_address_then_stopped(config: LabConfig) -> None:
    aptrepo.serve(config)
    try:
        pid = int((config.apt_dir / "server.pid").read_text())
        aptrepo.serve(config)  # served already: the same process
        assert int((config.apt_dir / "server.pid").read_text()) == pid
        url = f"{config.apt_repo.url}dists/{config.apt_repo.suite}/InRelease"
        assert url.startswith(f"http://{config.bridge_address}:{APT_REPO_PORT}/")
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert b"BEGIN PGP SIGNED MESSAGE" in answer.read()
    finally:
        assert aptrepo.stop(config)
    assert (
        not Path(f"/proc/{pid}/cmdline").exists() or not Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    assert not aptrepo.stop(config), "nothing left to stop"


def test_a_taken_address_is_a_clear_error(config: LabConfig) -> None:
    with (
        socket.create_server((config.bridge_address, APT_REPO_PORT)),
        pytest.raises(LabError, match="another process listens on"),
    ):
        aptrepo.serve(config)
    assert not (config.apt_dir / "server.pid").exists()
