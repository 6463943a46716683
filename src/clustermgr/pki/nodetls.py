"""A node's own TLS key, made on the node; the manager signs only its CSR (pure).

Shared by every component whose daemons speak TLS between hosts (slapd's
StartTLS, the cache's stunnels): the node makes its key and CSR with
``openssl`` (the key never leaves it), the manager reads back the CSR, signs
it with the cluster CA and writes the certificate and the CA certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.plan.model import FileChange, Step
from clustermgr.remote.command import Command


@dataclass(frozen=True)
class NodeTls:
    """Where one component keeps a node's TLS files, and who owns them."""

    directory: str
    #: ``user:group`` owning the directory, the key and the CSR.
    owner: str

    @property
    def ca_file(self) -> str:
        return f"{self.directory}/ca.pem"

    @property
    def cert_file(self) -> str:
        return f"{self.directory}/node.pem"

    @property
    def key_file(self) -> str:
        return f"{self.directory}/node.key"

    @property
    def csr_file(self) -> str:
        return f"{self.directory}/node.csr"

    def cert_files(self, ca_pem: bytes, cert_pem: bytes) -> tuple[FileChange, FileChange]:
        """The CA certificate and the node's signed certificate, as files."""
        return (
            FileChange(self.ca_file, ca_pem, mode=0o644, owner=self.owner),
            FileChange(self.cert_file, cert_pem, mode=0o644, owner=self.owner),
        )


_KEY_SCRIPT = """\
set -e
user=${5%%:*}; group=${5#*:}
install -d -o "$user" -g "$group" -m 0750 "$1"
umask 077
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
  -keyout "$2" -out "$3" -subj "/CN=$4" -addext "subjectAltName=DNS:$4" 2>/dev/null
chown "$5" "$2" "$3"
chmod 0600 "$2"
chmod 0644 "$3"
"""


def key_step(host: str, tls: NodeTls, *, purpose: str = "") -> Step:
    """Make the node's key and CSR on the node, once."""
    title = f"make the node's TLS key{f' for {purpose}' if purpose else ''}"
    return Step(
        host,
        title,
        "the key is made on the node and never leaves it; the manager signs its CSR",
        commands=(
            Command.script(_KEY_SCRIPT, tls.directory, tls.key_file, tls.csr_file, host, tls.owner),
        ),
        check=Command.script('test -s "$1" && test -s "$2"', tls.key_file, tls.csr_file),
        unchanged_reason="the node has its key and CSR",
    )
