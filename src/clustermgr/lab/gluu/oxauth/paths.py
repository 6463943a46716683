"""The identity node's layout: the one place for its paths and defaults.

:mod:`clustermgr.lab.gluu.directory` re-exports these, so the manager, the lab and
the stand-in itself agree on where everything is.
"""

from __future__ import annotations

OX_LDAP_PROPERTIES = "/etc/gluu/conf/ox-ldap.properties"
OXAUTH_LOG_DIR = "/opt/gluu/jetty/oxauth/logs"
OXAUTH_LOG = "oxauth.log"
OXAUTH_AUDIT_LOG = "oxauth_audit.log"
#: Where the lab installs the stand-in on a host: one zipapp (see
#: :func:`clustermgr.lab.gluu.bundle.oxauth_zipapp`), run as ``python3 -I oxauth.pyz``.
OXAUTH_APP = "/opt/gluu/jetty/oxauth/lab/oxauth.pyz"
OXAUTH_INIT_SCRIPT = "/etc/init.d/oxauth"
#: Sourced by the init script: ``OXAUTH_OPTS="--port 8443 ..."``.
OXAUTH_DEFAULTS = "/etc/default/oxauth"
OXAUTH_PIDFILE = "/run/oxauth.pid"
#: The HTTPS certificate and key Gluu's web front end uses.
HTTPD_CERT = "/etc/certs/httpd.crt"
HTTPD_KEY = "/etc/certs/httpd.key"
#: The keys that sign the app's tokens (0600): a JWKS document with private parts and
#: ``signing_kid``, the lab's JSON stand-in for oxAuth's ``oxauth-keys.jks`` (see :mod:`.keys`).
OXAUTH_KEYSTORE = "/etc/certs/oxauth-keys.json"
SUFFIX = "o=gluu"
DEFAULT_PYTHON = "/usr/bin/python3"
