"""A node's own TLS key, made on the node; the manager signs only its CSR (pure).

Shared by every component whose daemons speak TLS (slapd's StartTLS, the
cache's stunnels, the load balancer's HTTPS): the node makes its key and CSR with
``openssl`` (the key never leaves it), the manager reads back the CSR, signs
it with the cluster CA and writes the certificate and the CA certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.plan.model import FileChange, Step
from clustermgr.remote.command import Command

#: What a plan shows for a certificate the node cannot have signed yet.
PENDING_CERTIFICATE = (
    "a new certificate, signed by the cluster CA from the CSR the node makes when applied"
)


@dataclass(frozen=True)
class NodeTls:
    """Where one component keeps a node's TLS files, and who owns them."""

    directory: str
    #: ``user:group`` owning the directory, the key and the CSR.
    owner: str
    #: The node's files are ``<stem>.key``, ``<stem>.csr`` and ``<stem>.pem``.
    stem: str = "node"
    #: The cluster CA's certificate, in ``directory``.
    ca_name: str = "ca.pem"
    #: The directory's mode: 0750 keeps other users out; 0755 lets them see the names.
    directory_mode: str = "0750"

    @property
    def ca_file(self) -> str:
        return f"{self.directory}/{self.ca_name}"

    @property
    def cert_file(self) -> str:
        return f"{self.directory}/{self.stem}.pem"

    @property
    def key_file(self) -> str:
        return f"{self.directory}/{self.stem}.key"

    @property
    def csr_file(self) -> str:
        return f"{self.directory}/{self.stem}.csr"

    def cert_files(self, ca_pem: bytes, cert_pem: bytes) -> tuple[FileChange, FileChange]:
        """The CA certificate and the node's signed certificate, as files.

        ``cert_pem`` empty: the node has no CSR yet (a dry run before its key is made).
        """
        return (
            FileChange(self.ca_file, ca_pem, mode=0o644, owner=self.owner),
            FileChange(
                self.cert_file,
                cert_pem,
                mode=0o644,
                owner=self.owner,
                placeholder="" if cert_pem else PENDING_CERTIFICATE,
            ),
        )


_KEY_SCRIPT = """\
set -e
user=${5%%:*}; group=${5#*:}
install -d -o "$user" -g "$group" -m "$6" "$1"
umask 077
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
  -keyout "$2" -out "$3" -subj "/CN=$4" -addext "subjectAltName=DNS:$4" 2>/dev/null
chown "$5" "$2" "$3"
chmod 0600 "$2"
chmod 0644 "$3"
"""


def key_step(
    host: str, tls: NodeTls, *, purpose: str = "", name: str | None = None, title: str = ""
) -> Step:
    """Make the node's key and CSR on the node, once.

    ``name``: the name the certificate is for (its CN and DNS name), ``host`` by default.
    """
    title = title or f"make the node's TLS key{f' for {purpose}' if purpose else ''}"
    script = Command.script(
        _KEY_SCRIPT,
        tls.directory,
        tls.key_file,
        tls.csr_file,
        name or host,
        tls.owner,
        tls.directory_mode,
    )
    return Step(
        host,
        title,
        "the key is made on the node and never leaves it; the manager signs its CSR",
        commands=(script,),
        check=Command.script('test -s "$1" && test -s "$2"', tls.key_file, tls.csr_file),
        unchanged_reason="the node has its key and CSR",
    )
