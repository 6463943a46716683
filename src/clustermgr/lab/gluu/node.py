"""A miniature Gluu node's layout and the texts that make it, for the ``gluu-server``
package and its setup program.

Standard library only, imports within ``clustermgr.lab.gluu`` only: the setup
program carries this module to the node (see :mod:`clustermgr.lab.gluu.package`).
"""

from __future__ import annotations

APP_PORT = 8081  # where oxAuth's Jetty listens on a Gluu node
DB_DIR = "/var/lib/ldap/gluu"
SLAPD_DIR = "/etc/ldap/slapd.d"
SLAPD_DEFAULTS_FILE = "/etc/default/slapd"
NGINX_SITE = "/etc/nginx/conf.d/gluu-httpd.conf"
NGINX_DEFAULT_SITE = "/etc/nginx/sites-enabled/default"
LDAP_URL = "ldap://localhost:389"

SLAPD_DEFAULTS = """\
# Written by the clustermgr lab.
SLAPD_CONF=
SLAPD_USER="openldap"
SLAPD_GROUP="openldap"
SLAPD_PIDFILE=
SLAPD_SERVICES="ldap:/// ldapi:///"
SLAPD_SENTINEL_FILE=/etc/ldap/noslapd
SLAPD_OPTIONS=""
"""

_NGINX_HTTPD = """\
# The node's web front, as Apache is on a Gluu node: TLS on 443, the identity
# app behind it. Written by the clustermgr lab.
server {{
    listen 443 ssl default_server;
    server_name _;
    # The certificate: the node's own self-signed one until clustermgr's load
    # balancer has the cluster CA issue one and rewrites this include.
    include {tls_include};
    # Which node answered: lets lab tests see where a load balancer sent a request.
    add_header X-Served-By $hostname always;
    location / {{
        proxy_pass https://127.0.0.1:{app_port};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
    }}
}}
"""


def nginx_site(tls_include: str) -> str:
    """The web front's site: TLS on 443 (certificate from ``tls_include``), the app behind."""
    return _NGINX_HTTPD.format(tls_include=tls_include, app_port=APP_PORT)


def app_options(issuer_host: str) -> list[str]:
    """The identity app's options: on loopback behind the web front, ``issuer_host``'s issuer."""
    return ["--bind", "127.0.0.1", "--port", str(APP_PORT), "--hostname", issuer_host]


# Replaces the Debian directory (dc=nodomain) with the Gluu one, atomically for
# slapd: the new cn=config is built aside, then swapped in; the old one is kept.
# $1 slapd.d, $2 the database folder, $3 the cn=config LDIF, $4 the data LDIF.
LOAD_DIRECTORY = """\
set -e
service slapd stop >/dev/null 2>&1 || true
new="$1.new"; rm -rf "$new" "$2"; mkdir -p "$new" "$2"
slapadd -q -n0 -F "$new" -l "$3"
slapadd -q -n1 -F "$new" -l "$4"
chown -R openldap:openldap "$new" "$2"
install -d -o openldap -g openldap /var/run/slapd  # on tmpfs: gone after a reboot
if [ -d "$1" ] && [ ! -d "$1.debian" ]; then mv "$1" "$1.debian"; else rm -rf "$1"; fi
mv "$new" "$1"
"""

#: Whether o=gluu is loaded: $1 the database folder, $2 slapd.d.
DIRECTORY_LOADED = 'test -s "$1/data.mdb" && grep -rqs "o=gluu" "$2/cn=config"'

#: A self-signed web certificate: $1 the certificate, $2 the key, $3 the name, $4 the
#: subject (:func:`certificate_subject`).
SELF_SIGNED_CERT = """\
set -e
mkdir -p "$(dirname "$1")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "$4" -addext "subjectAltName=DNS:$3" -keyout "$2" -out "$1" 2>/dev/null
chmod 600 "$2"
"""


def certificate_subject(**fields: str) -> str:
    """An ``openssl req -subj`` value (``/C=US/O=Org/CN=name``): each value's ``/``,
    ``+``, ``=``, ``,`` and backslash escaped, as openssl reads them."""
    escaped = {k: "".join("\\" + c if c in "/+=,\\" else c for c in v) for k, v in fields.items()}
    return "".join(f"/{k}={v}" for k, v in escaped.items())


#: Enable a service: ``defaults`` creates the links of a new service (a no-op when
#: they exist), ``enable`` turns disabled ones back on.  $1 its name.
ENABLE_SERVICE = 'update-rc.d "$1" defaults >/dev/null && update-rc.d "$1" enable >/dev/null'

# --- the gluu-server package's layout ---------------------------------------------

INSTALL_DIR = "/opt/gluu-server"
SETUP_PROGRAM = f"{INSTALL_DIR}/bin/setup"
#: The identity app as the package installs it (the init script runs it).
PACKAGE_APP = f"{INSTALL_DIR}/lib/oxauth.pyz"
GLUU_ETC = "/etc/gluu"
SETUP_PROPERTIES = f"{GLUU_ETC}/conf/setup.properties"
#: The properties the last successful setup applied (0600).
APPLIED_PROPERTIES = f"{SETUP_PROPERTIES}.applied"
SETUP_LOG = "/var/log/gluu-setup.log"
CERTS_DIR = "/etc/certs"
#: Where the identity app keeps its logs: Gluu's jetty tree.
APP_HOME = "/opt/gluu"
