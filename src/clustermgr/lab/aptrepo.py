"""The lab's signed apt repository: the ``gluu-server`` package, served to the lab's hosts.

:func:`publish` builds the package into ``<state>/apt/repo/pool/main/``, indexes it
(``dpkg-scanpackages``), writes ``dists/<suite>/Release`` with every index's
checksums and signs it (``InRelease`` and ``Release.gpg``) with the lab's key.
The key is made once per lab state (no passphrase: the lab signs unattended) and
kept in the state folder, secret part 0600; hosts never see that folder.

:func:`serve` runs a static HTTP server on the bridge's address, so only the
lab's hosts (and this machine) reach it; its PID is kept so :func:`stop` ends
exactly that process.  gpg runs in a short-lived home of its own, its agent
stopped afterwards: nothing of it outlives a call.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

from clustermgr.lab.config import APT_COMPONENT, APT_REPO_PORT, APT_SUITE, AptRepo, LabConfig
from clustermgr.lab.gluu.package import build_deb
from clustermgr.lab.net import LabError

PYTHON = "/usr/bin/python3"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
ARCHITECTURES = ("all",)


def _secret_key(config: LabConfig) -> Path:
    return config.apt_dir / "signing-key.asc"


def _pid_file(config: LabConfig) -> Path:
    return config.apt_dir / "server.pid"


def _run(
    argv: list[str], what: str, *, cwd: Path | None = None, new_session: bool = False
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, start_new_session=new_session
    )
    if proc.returncode != 0:
        raise LabError(f"{what} failed: {proc.stderr.strip()}")
    return proc


@contextlib.contextmanager
def _gnupg() -> Iterator[list[str]]:
    """A throw-away gpg home (short path: the agent's socket lives there); gpg's argv."""
    home = tempfile.mkdtemp(prefix="cmlab-gpg-", dir="/tmp")
    try:
        yield ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback"]
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def ensure_key(config: LabConfig) -> None:
    """The lab's signing key, made on the first call: secret (0600) and public, armored."""
    secret, public = _secret_key(config), config.apt_repo.public_key
    if secret.exists() and public.exists():
        return
    config.apt_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    uid = f"clustermgr lab {config.prefix} apt repository <apt@{config.prefix}.lab.invalid>"
    with _gnupg() as gpg:
        _run([*gpg, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"], "gpg")
        exported = _run([*gpg, "--passphrase", "", "--armor", "--export-secret-keys"], "gpg")
        armored = _run([*gpg, "--armor", "--export"], "gpg").stdout
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(exported.stdout)
    public.write_text(armored)


def _digests(data: bytes) -> dict[str, str]:
    return {
        "MD5Sum": hashlib.md5(data).hexdigest(),  # noqa: S324 (apt's index format)
        "SHA256": hashlib.sha256(data).hexdigest(),
    }


def release_text(indexes: dict[str, bytes], date: float) -> str:
    """``Release``: the suite's description and each index's size and checksums."""
    lines = [
        "Origin: clustermgr lab",
        "Label: clustermgr lab",
        f"Suite: {APT_SUITE}",
        f"Codename: {APT_SUITE}",
        f"Date: {formatdate(date, usegmt=True)}",
        f"Architectures: {' '.join(ARCHITECTURES)}",
        f"Components: {APT_COMPONENT}",
        "Description: the gluu-server package of clustermgr's lab",
    ]
    for field in ("MD5Sum", "SHA256"):
        lines.append(f"{field}:")
        for name in sorted(indexes):
            data = indexes[name]
            lines.append(f" {_digests(data)[field]} {len(data):>8} {name}")
    return "\n".join(lines) + "\n"


def publish(config: LabConfig) -> AptRepo:
    """Build the package, index it and sign the suite; the repository."""
    repo = config.apt_repo
    ensure_key(config)
    root = config.apt_dir / "repo"
    build_deb(repo.deb.parent)
    scanned = _run(
        ["dpkg-scanpackages", "--multiversion", f"pool/{APT_COMPONENT}", "/dev/null"],
        "indexing the lab's packages",
        cwd=root,
    ).stdout.encode()
    suite = root / "dists" / APT_SUITE
    indexes: dict[str, bytes] = {}
    for arch in ARCHITECTURES:
        folder = f"{APT_COMPONENT}/binary-{arch}"
        (suite / folder).mkdir(parents=True, exist_ok=True)
        indexes[f"{folder}/Packages"] = scanned
        indexes[f"{folder}/Packages.gz"] = gzip.compress(scanned, mtime=0)
    for name, data in indexes.items():
        (suite / name).write_bytes(data)
    release = suite / "Release"
    release.write_text(release_text(indexes, time.time()))
    with _gnupg() as gpg:
        _run([*gpg, "--import", str(_secret_key(config))], "importing the lab's key")
        sign = [*gpg, "--yes", "--passphrase", "", "--digest-algo", "SHA512"]
        _run([*sign, "--clearsign", "-o", str(suite / "InRelease"), str(release)], "signing")
        _run([*sign, "--armor", "--detach-sign", "-o", f"{release}.gpg", str(release)], "signing")
    return repo


# --- the server ----------------------------------------------------------------------


def _server_pid(config: LabConfig) -> int | None:
    """The running server's PID, if the recorded process is still this lab's server."""
    try:
        pid = int(_pid_file(config).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    ours = b"http.server" in cmdline and str(config.apt_dir / "repo").encode() in cmdline
    return pid if ours else None


def _answers(config: LabConfig) -> bool:
    try:
        with socket.create_connection((config.bridge_address, APT_REPO_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def serve(config: LabConfig) -> None:
    """Serve the repository on the bridge's address (a no-op when it is served already)."""
    if _server_pid(config) is not None:
        return
    where = f"{config.bridge_address}:{APT_REPO_PORT}"
    if _answers(config):
        raise LabError(
            f"another process listens on {where}, the lab's apt repository's address",
            hint=f"find it with `ss -ltnp 'sport = {APT_REPO_PORT}'`",
        )
    log = config.apt_dir / "server.log"
    argv = [PYTHON, "-m", "http.server", "--bind", config.bridge_address]
    argv += ["--directory", str(config.apt_dir / "repo"), str(APT_REPO_PORT)]
    # Started in the background by a shell that exits at once: the server is nobody's child.
    proc = _run(
        ["sh", "-c", '"$@" >>"$0" 2>&1 </dev/null & echo $!', str(log), *argv],
        "starting the apt repository's server",
        new_session=True,
    )
    _pid_file(config).write_text(proc.stdout.strip() + "\n")
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        running = _server_pid(config) is not None
        if running and _answers(config):
            return
        if not running or time.monotonic() > deadline:
            stop(config)
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise LabError(
                f"the apt repository's server does not answer on {where}: {' '.join(tail)}"
            )
        time.sleep(0.05)


def stop(config: LabConfig) -> bool:
    """Stop the repository's server; whether one was running."""
    pid = _server_pid(config)
    _pid_file(config).unlink(missing_ok=True)
    if pid is None:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        # Gone, and its port closed with it: the next server may bind it at once.
        deadline = time.monotonic() + STOP_TIMEOUT
        while (_alive(pid) or _answers(config)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            break
    return True


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
