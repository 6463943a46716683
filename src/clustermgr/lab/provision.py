"""Make lab identity nodes miniature Gluu nodes, through the product's own executor.

What a Gluu 4 node shows from the outside, on each identity node:

- OpenLDAP holding ``o=gluu`` (Gluu's schema, ``ou=configuration`` with the
  ``oxCacheConfiguration`` JSON, ``ou=people`` with an admin, ``ou=cache``),
  on ``ldap://`` and ``ldapi://``;
- ``/etc/gluu/conf/ox-ldap.properties`` naming the directory;
- the stand-in identity app behind a web server on 443, as oxAuth sits behind
  Apache on a real node (here nginx on 443, the app on 127.0.0.1:8081), installed
  with the lab proxy's hostname as a cluster's nodes are with the load balancer's,
  so every node's discovery names the same issuer;
- every service enabled, so a host that reboots comes back serving.

The steps are ordinary plan steps applied over SSH, so provisioning is
idempotent: a second ``lab up`` reports every step unchanged.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from clustermgr.lab.config import LabConfig, LabHost
from clustermgr.lab.gluu import directory as gluu
from clustermgr.lab.gluu import node
from clustermgr.lab.gluu.bundle import oxauth_zipapp
from clustermgr.pki.nodeweb import NGINX_TLS_INCLUDE, nginx_tls_include
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

LAB_DIR = "/etc/gluu/lab"
CONFIG_LDIF = f"{LAB_DIR}/slapd-config.ldif"
DATA_LDIF = f"{LAB_DIR}/base-data.ldif"

# The web front's certificate include, written only when missing: once clustermgr
# has written its own, a later `lab up` leaves it alone.
WRITE_MISSING = """\
set -e
test -s "$1" && exit 0
mkdir -p "$(dirname "$1")"
printf '%s' "$2" > "$1"
"""


@dataclass(frozen=True)
class LabSecrets:
    """The lab's Gluu passwords: the directory manager's and the admin user's."""

    ldap_admin: Secret
    admin: Secret


def lab_secrets(config: LabConfig) -> LabSecrets:
    """Generated once per lab, kept in the lab's folder (0600), reused by every node."""
    path = config.state_dir / "secrets.json"
    if not path.exists():
        values = {"ldap_admin": secrets.token_urlsafe(18), "admin": secrets.token_urlsafe(18)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(values, out)
    data = json.loads(Path(path).read_text())
    return LabSecrets(
        Secret.held(data["ldap_admin"], label="lab-ldap-admin"),
        Secret.held(data["admin"], label="lab-admin"),
    )


def _enable_and_start(host: str, service: str) -> Step:
    return Step(
        host=host,
        title=f"enable and start {service}",
        reason=f"{service} runs on a Gluu node, also after a reboot",
        commands=(
            Command.script(node.ENABLE_SERVICE, service),
            Command.of("service", service, "restart"),
        ),
        check=Command.script(node.SERVICE_UP, service),
        unchanged_reason=f"{service} is enabled and running",
    )


def identity_node_plan(host: LabHost, lab: LabSecrets, public_hostname: str | None) -> Plan:
    """Everything that makes ``host`` a miniature Gluu node.

    ``public_hostname``: the Gluu hostname it is installed with, which its discovery
    names as the issuer; in a cluster, the load balancer's (None: the node's own).
    """
    name = host.fqdn
    # Hashes are salted at random: render them from stable salts, or every
    # `lab up` would see "changed" files and reload the directory.
    salt = host.fqdn.encode()[:8].ljust(8, b"\0")
    config_ldif = gluu.slapd_config_ldif(
        root_pw_hash=gluu.ssha_password(lab.ldap_admin.reveal(), salt=salt),
        db_dir=node.DB_DIR,
        extra_schema=gluu.gluu_schema_ldif(),
    )
    data_ldif = gluu.base_data_ldif(
        admin_password_hash=gluu.ssha_password(lab.admin.reveal(), salt=salt),
        cache_config=gluu.native_cache_config(),
    )
    properties = gluu.ox_ldap_properties(
        servers=["localhost:389"], bind_dn=gluu.ROOT_DN, bind_password=lab.ldap_admin.reveal()
    )
    issuer_host = public_hostname or name
    options = node.app_options(issuer_host)
    steps = (
        Step(
            name,
            "write the directory's LDIF",
            "the Gluu directory of this node",
            files=(
                FileChange(CONFIG_LDIF, config_ldif.encode(), mode=0o600, sensitive=True),
                FileChange(DATA_LDIF, data_ldif.encode(), mode=0o600, sensitive=True),
            ),
        ),
        Step(
            name,
            "load the Gluu directory",
            "o=gluu replaces the Debian default directory",
            commands=(
                Command.script(
                    node.LOAD_DIRECTORY, node.SLAPD_DIR, node.DB_DIR, CONFIG_LDIF, DATA_LDIF
                ),
            ),
            check=Command.script(node.DIRECTORY_LOADED, node.DB_DIR, node.SLAPD_DIR),
            unchanged_reason="o=gluu is loaded",
            verify=Command.of("slaptest", "-Q", "-u", "-F", node.SLAPD_DIR),
        ),
        Step(
            name,
            "configure slapd",
            "LDAP on ldap:/// and ldapi:///",
            files=(FileChange(node.SLAPD_DEFAULTS_FILE, node.SLAPD_DEFAULTS.encode()),),
        ),
        _enable_and_start(name, "slapd"),
        Step(
            name,
            f"write {gluu.OX_LDAP_PROPERTIES}",
            "how the identity app finds LDAP",
            files=(
                FileChange(
                    gluu.OX_LDAP_PROPERTIES, properties.encode(), mode=0o600, sensitive=True
                ),
            ),
        ),
        Step(
            name,
            "create the HTTPS certificate",
            "the node's web front serves TLS",
            commands=(
                Command.script(node.SELF_SIGNED_CERT, gluu.HTTPD_CERT, gluu.HTTPD_KEY, name),
            ),
            check=Command.of("test", "-s", gluu.HTTPD_CERT),
            unchanged_reason="the certificate exists",
        ),
        Step(
            name,
            "name the web front's certificate",
            "the node serves its self-signed certificate until the cluster CA issues one",
            commands=(
                Command.script(
                    WRITE_MISSING,
                    NGINX_TLS_INCLUDE,
                    nginx_tls_include(gluu.HTTPD_CERT, gluu.HTTPD_KEY),
                ),
            ),
            check=Command.of("test", "-s", NGINX_TLS_INCLUDE),
            unchanged_reason="the web front names its certificate",
        ),
        Step(
            name,
            "install the identity app",
            "oxAuth stand-in (lab only)",
            files=(
                FileChange(gluu.OXAUTH_APP, oxauth_zipapp(), mode=0o755),
                FileChange(gluu.OXAUTH_INIT_SCRIPT, gluu.init_script().encode(), mode=0o755),
                FileChange(gluu.OXAUTH_DEFAULTS, gluu.defaults_text(options).encode()),
            ),
            commands=(
                Command.script(
                    "service oxauth status >/dev/null 2>&1 && service oxauth restart || true"
                ),
            ),
        ),
        _enable_and_start(name, "oxauth"),
        Step(
            name,
            "configure the web front",
            "TLS on 443 in front of the identity app",
            files=(
                FileChange(
                    node.NGINX_SITE,
                    node.nginx_site(NGINX_TLS_INCLUDE).encode(),
                    validate=lambda _: Command.of("nginx", "-t", "-q"),
                    validate_in_place=True,
                ),
            ),
            commands=(
                Command.of("rm", "-f", node.NGINX_DEFAULT_SITE),
                Command.script(
                    "service nginx status >/dev/null 2>&1 && service nginx reload || true"
                ),
            ),
        ),
        _enable_and_start(name, "nginx"),
    )
    return Plan(f"lab Gluu node {name}", steps)


def lab_plan(config: LabConfig, lab: LabSecrets) -> Plan:
    steps = [
        s
        for h in config.hosts()
        if h.role.value == "identity"
        for s in identity_node_plan(h, lab, config.public_hostname).steps
    ]
    return Plan("lab Gluu nodes", tuple(steps))
