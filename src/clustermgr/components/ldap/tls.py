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
from clustermgr.components.ldap.model import TLS_CA_FILE, Replication
from clustermgr.components.ldap.plan import check
from clustermgr.facts.ldap import ldapmodify_root, root_script
from clustermgr.facts.services import ServiceControl
from clustermgr.pki import nodetls
from clustermgr.pki.nodetls import NodeTls
from clustermgr.plan.model import Plan, Step

NODE_TLS = NodeTls("/etc/ldap/tls", "openldap:openldap")
TLS_DIR = NODE_TLS.directory
CA_FILE = TLS_CA_FILE
CERT_FILE = NODE_TLS.cert_file
KEY_FILE = NODE_TLS.key_file
CSR_FILE = NODE_TLS.csr_file
OWNER = NODE_TLS.owner
#: cn=config attribute -> file, in the order slapd wants them set (one modify).
CONFIG = {
    "olcTLSCACertificateFile": CA_FILE,
    "olcTLSCertificateFile": CERT_FILE,
    "olcTLSCertificateKeyFile": KEY_FILE,
}

_RESTART = """\
svc_restart slapd >/dev/null
for i in $(seq 50); do
  ldapsearch $LDAPI -b cn=config -s base dn >/dev/null 2>&1 && exit 0
  sleep 0.2
done
exit 1
"""


def key_step(host: str) -> Step:
    """Make the node's key and CSR on the node, once."""
    return nodetls.key_step(host, NODE_TLS)


def config_ldif() -> str:
    lines = ["dn: cn=config", "changetype: modify"]
    for name, path in CONFIG.items():
        lines += [f"replace: {name}", render.attr(name, path), "-"]
    return "\n".join(lines) + "\n"


def tls_step(host: str, ca_pem: bytes, cert_pem: bytes, services: ServiceControl) -> Step:
    """Certificates in place, cn=config pointing at them; slapd restarted when they change.

    The restart makes consumers reconnect with the new CA at once instead of at
    their next retry.
    """
    return Step(
        host,
        "serve StartTLS with the cluster CA's certificate",
        "replication is encrypted and each peer's certificate verified",
        files=NODE_TLS.cert_files(ca_pem, cert_pem),
        commands=(
            ldapmodify_root(config_ldif().encode()),
            root_script(services.functions(_RESTART) + _RESTART),
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


def plan_tls(
    cluster: str,
    ca_pem: bytes,
    certs: Mapping[str, bytes],
    services: Mapping[str, ServiceControl],
) -> Plan:
    """``certs``: hostname -> its certificate (PEM); hosts without one are left out.

    ``services``: hostname -> how it restarts slapd (every host in ``certs``).
    """
    steps = tuple(tls_step(h, ca_pem, c, services[h]) for h, c in certs.items())
    return Plan(f"LDAP replication of cluster {cluster}: TLS", steps)
