"""Real OpenSSH servers on loopback ports, for integration tests.

Each server runs ``/usr/sbin/sshd -D -e -f CONFIG`` in its own directory with a
freshly generated ed25519 host key, so tests can pin, change and compare real
host keys.  Logins use client keys generated here (one without and one with a
passphrase) and listed in a private ``authorized_keys``; the machine's own
sshd configuration and keys are never touched.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from clustermgr.redact import Secret
from clustermgr.remote.ssh import SshConnection
from clustermgr.remote.target import HostKey, SshCredentials, SshTarget

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
PRIVSEP_DIR = Path("/run/sshd")
READY_TIMEOUT = 15.0
PASSPHRASE = "correct horse battery staple 42"

#: The ``open_ssh`` fixture: ``await open_ssh(host, credentials=..., pinned=..., ...)``.
Connect = Callable[..., Awaitable[SshConnection]]


@dataclass(frozen=True)
class ClientKey:
    """A client key pair made with ssh-keygen (``private`` is the file's text)."""

    path: Path
    private: str
    public: str
    passphrase: str | None = None

    def credentials(self, passphrase: str | None = None) -> SshCredentials:
        """Credentials for this key; ``passphrase`` overrides the key's own (to test wrong ones)."""
        given = self.passphrase if passphrase is None else passphrase
        return SshCredentials(
            private_key=Secret(self.private, "private_key"),
            passphrase=Secret(given, "passphrase") if given is not None else None,
        )


@dataclass(frozen=True)
class SshdHost:
    """One running sshd: where to reach it and the host key it presents."""

    target: SshTarget
    #: Its first host key (ed25519 unless asked otherwise).
    host_key: HostKey
    host_key_pub: Path
    process: subprocess.Popen[bytes]
    log: Path
    #: Every host key it has, by algorithm (``ssh-ed25519``, ``ssh-rsa``...).
    host_keys: dict[str, HostKey]


@dataclass(frozen=True)
class SshdLab:
    hosts: list[SshdHost]
    #: In authorized_keys, without a passphrase.
    client_key: ClientKey
    #: In authorized_keys, encrypted with :data:`PASSPHRASE`.
    encrypted_key: ClientKey
    #: Not in authorized_keys: logins with it must be refused.
    stranger_key: ClientKey
    #: A host key no server has: pinning it must make connections fail.
    alien_host_key: HostKey
    #: The file every server reads its authorized keys from.
    authorized_keys: Path


def free_port() -> int:
    """A loopback port nothing listens on (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable(host: SshdHost, name: str = "ghost") -> SshdHost:
    """``host`` with its port changed to one where nothing listens (connections are refused)."""
    return replace(host, target=SshTarget(name, "127.0.0.1", free_port()))


def keygen(path: Path, passphrase: str = "", key_type: str = "ed25519") -> ClientKey:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, "-N", passphrase, "-C", path.name, "-f", str(path)],
        check=True,
    )
    return ClientKey(
        path=path,
        private=path.read_text(),
        public=path.with_suffix(".pub").read_text().strip(),
        passphrase=passphrase or None,
    )


def missing_tools() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if not SSHD.exists():
        return f"{SSHD} is not installed (apt-get install openssh-server)"
    try:
        PRIVSEP_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"sshd needs its privilege separation directory {PRIVSEP_DIR}: {exc}"
    return None


@contextmanager
def sshd_lab(workdir: Path, count: int = 3) -> Iterator[SshdLab]:
    """Start ``count`` sshd servers under ``workdir``; stop them on exit."""
    client = keygen(workdir / "client_key")
    encrypted = keygen(workdir / "encrypted_key", PASSPHRASE)
    stranger = keygen(workdir / "stranger_key")
    alien = keygen(workdir / "alien_host_key")
    authorized = workdir / "authorized_keys"
    authorized.write_text(f"{client.public}\n{encrypted.public}\n")
    with ExitStack() as stack:
        hosts = [
            stack.enter_context(_sshd(workdir / f"node{index}", f"node{index}", authorized))
            for index in range(1, count + 1)
        ]
        for host in hosts:
            wait_until_listening(host)
        yield SshdLab(
            hosts=hosts,
            client_key=client,
            encrypted_key=encrypted,
            stranger_key=stranger,
            alien_host_key=HostKey.from_openssh(alien.public),
            authorized_keys=authorized,
        )


@contextmanager
def extra_sshd(
    lab: SshdLab, directory: Path, name: str, key_types: Sequence[str]
) -> Iterator[SshdHost]:
    """One more server for ``lab``'s client keys, with a host key of each of ``key_types``."""
    with _sshd(directory, name, lab.authorized_keys, key_types) as host:
        wait_until_listening(host)
        yield host


@contextmanager
def _sshd(
    directory: Path, name: str, authorized_keys: Path, key_types: Sequence[str] = ("ed25519",)
) -> Iterator[SshdHost]:
    directory.mkdir()
    key_files = [directory / f"ssh_host_{key_type}_key" for key_type in key_types]
    for key_type, key_file in zip(key_types, key_files, strict=True):
        subprocess.run(
            [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", name, "-f", str(key_file)],
            check=True,
        )
    host_key = key_files[0]
    port = free_port()
    config = directory / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                *(f"HostKey {key_file}" for key_file in key_files),
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                f"AuthorizedKeysFile {authorized_keys}",
                "StrictModes no",
                f"PidFile {directory / 'sshd.pid'}",
                "UsePAM no",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    log = directory / "sshd.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    target = SshTarget(name=name, address="127.0.0.1", port=port, username=getpass.getuser())
    try:
        yield SshdHost(
            target=target,
            host_key=HostKey.from_openssh(host_key.with_suffix(".pub").read_text()),
            host_key_pub=host_key.with_suffix(".pub"),
            process=process,
            log=log,
            host_keys={key.algorithm: key for key in map(_public, key_files)},
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _public(key_file: Path) -> HostKey:
    return HostKey.from_openssh(key_file.with_suffix(".pub").read_text())


def wait_until_listening(host: SshdHost, timeout: float = READY_TIMEOUT) -> None:
    """Poll until the server accepts TCP connections; fail early if sshd exited."""
    deadline = time.monotonic() + timeout
    while True:
        if host.process.poll() is not None:
            raise RuntimeError(
                f"sshd for {host.target.name} exited with status {host.process.returncode}:\n"
                f"{host.log.read_text()}"
            )
        try:
            with socket.create_connection((host.target.address, host.target.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd for {host.target.name} is not listening on {host.target.endpoint} "
                    f"after {timeout:g} s:\n{host.log.read_text()}"
                ) from None
            time.sleep(0.05)
