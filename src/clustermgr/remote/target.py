"""Where to connect, as whom, and which host key to expect: plain values.

These are what the inventory hands to :func:`clustermgr.remote.ssh.connect`.
Credentials hold :class:`Secret` values so a target and its credentials can be
logged, put in an event or shown in an error without leaking a key.  AsyncSSH
loads only when a key is parsed: reading the inventory needs none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from clustermgr.redact import Secret

if TYPE_CHECKING:
    import asyncssh


@dataclass(frozen=True)
class SshTarget:
    """One SSH server.

    ``name`` is the server's hostname as the inventory knows it: it names the
    host in results and error messages.  ``address`` is what we dial (an IP or
    a resolvable name), which may differ from ``name``.
    """

    name: str
    address: str
    port: int = 22
    username: str = "root"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"{self.name}: SSH port {self.port} is not in 1..65535")

    @property
    def endpoint(self) -> str:
        """``address:port`` as people write it (IPv6 addresses in brackets)."""
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{address}:{self.port}"


@dataclass(frozen=True)
class SshCredentials:
    """How to log in.  ``private_key`` is the PEM or OpenSSH key text itself.

    Nothing is read from ``~/.ssh`` or an agent: a connection uses exactly these
    credentials, so what works from the manager is what the inventory says.
    """

    private_key: Secret | None = None
    passphrase: Secret | None = None
    password: Secret | None = None


@dataclass(frozen=True)
class HostKey:
    """A server's public host key, as pinned in the inventory.

    ``public_key`` is the OpenSSH one-line form without a comment
    (``ssh-ed25519 AAAA...``); ``fingerprint`` is the SHA256 form that
    ``ssh-keygen -l`` prints (``SHA256:...``), which is what people compare.
    """

    algorithm: str
    public_key: str
    fingerprint: str

    @classmethod
    def from_ssh_key(cls, key: asyncssh.SSHKey) -> HostKey:
        line = key.export_public_key("openssh").decode("ascii").split()
        return cls(
            algorithm=line[0],
            public_key=f"{line[0]} {line[1]}",
            fingerprint=key.get_fingerprint("sha256"),
        )

    @classmethod
    def from_openssh(cls, line: str) -> HostKey:
        """Parse an OpenSSH public key line (``alg base64 [comment]``), e.g. a ``.pub`` file.

        Raises :class:`ValueError` when the line is not a public key.
        """
        import asyncssh

        try:
            key = asyncssh.import_public_key(line.strip())
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise ValueError(f"not an OpenSSH public key: {exc}") from None
        return cls.from_ssh_key(key)

    def to_ssh_key(self) -> asyncssh.SSHKey:
        import asyncssh

        return asyncssh.import_public_key(self.public_key)

    def __str__(self) -> str:
        return f"{self.algorithm} {self.fingerprint}"
