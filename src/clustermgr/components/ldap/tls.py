"""StartTLS for replication (pure): the node's key, its certificate, cn=config's TLS.

The node makes its own key and CSR with ``openssl`` (the key never leaves it);
the manager reads back only the CSR, signs it with the cluster CA and writes
the certificate and the CA certificate as files.  slapd then serves StartTLS
with them, and every consumer verifies its provider against the same CA
(``tls_reqcert=demand``): a peer with a certificate from another CA is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from clustermgr.components.ldap import render
from clustermgr.components.ldap.model import LDAPI, TLS_CA_FILE, Replication
from clustermgr.components.ldap.plan import check
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.remote.command import Command

TLS_DIR = "/etc/ldap/tls"
CA_FILE = TLS_CA_FILE
CERT_FILE = f"{TLS_DIR}/node.pem"
KEY_FILE = f"{TLS_DIR}/node.key"
CSR_FILE = f"{TLS_DIR}/node.csr"
OWNER = "openldap:openldap"
#: cn=config attribute -> file, in the order slapd wants them set (one modify).
CONFIG = {
    "olcTLSCACertificateFile": CA_FILE,
    "olcTLSCertificateFile": CERT_FILE,
    "olcTLSCertificateKeyFile": KEY_FILE,
}

_KEY_SCRIPT = """\
set -e
install -d -o openldap -g openldap -m 0750 "$1"
umask 077
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
  -keyout "$2" -out "$3" -subj "/CN=$4" -addext "subjectAltName=DNS:$4" 2>/dev/null
chown openldap:openldap "$2" "$3"
chmod 0600 "$2"
chmod 0644 "$3"
"""

_RESTART = """\
service slapd restart >/dev/null
for i in $(seq 50); do
  ldapsearch -Q -Y EXTERNAL -H ldapi:/// -b cn=config -s base dn >/dev/null 2>&1 && exit 0
  sleep 0.2
done
exit 1
"""


def key_step(host: str) -> Step:
    """Make the node's key and CSR on the node, once."""
    return Step(
        host,
        "make the node's TLS key",
        "the key is made on the node and never leaves it; the manager signs its CSR",
        commands=(Command.script(_KEY_SCRIPT, TLS_DIR, KEY_FILE, CSR_FILE, host),),
        check=Command.script('test -s "$1" && test -s "$2"', KEY_FILE, CSR_FILE),
        unchanged_reason="the node has its key and CSR",
    )


def config_ldif() -> str:
    lines = ["dn: cn=config", "changetype: modify"]
    for name, path in CONFIG.items():
        lines += [f"replace: {name}", render.attr(name, path), "-"]
    return "\n".join(lines) + "\n"


def tls_step(host: str, ca_pem: bytes, cert_pem: bytes) -> Step:
    """Certificates in place, cn=config pointing at them; slapd restarted when they change.

    The restart makes consumers reconnect with the new CA at once instead of at
    their next retry.
    """
    return Step(
        host,
        "serve StartTLS with the cluster CA's certificate",
        "replication is encrypted and each peer's certificate verified",
        files=(
            FileChange(CA_FILE, ca_pem, mode=0o644, owner=OWNER),
            FileChange(CERT_FILE, cert_pem, mode=0o644, owner=OWNER),
        ),
        commands=(
            Command.of(
                "ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", LDAPI, stdin=config_ldif().encode()
            ),
            Command.script(_RESTART),
        ),
        check=check(
            *(
                {"base": "cn=config", "attr": name, "want": [[path]], "scope": "base"}
                for name, path in CONFIG.items()
            )
        ),
        unchanged_reason="slapd serves StartTLS with the cluster's certificate",
    )


def plan_keys(cluster: str, rep: Replication) -> Plan:
    steps = tuple(key_step(m.hostname) for m in rep.members)
    return Plan(f"LDAP replication of cluster {cluster}: TLS keys", steps)


def plan_tls(cluster: str, ca_pem: bytes, certs: Mapping[str, bytes]) -> Plan:
    """``certs``: hostname -> its certificate (PEM); hosts without one are left out."""
    steps = tuple(tls_step(h, ca_pem, c) for h, c in certs.items())
    return Plan(f"LDAP replication of cluster {cluster}: TLS", steps)
