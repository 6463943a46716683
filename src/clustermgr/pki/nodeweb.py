"""An identity node's web certificate: what its HTTPS on 443 serves (pure).

The node makes its key and CSR (``/etc/certs/clustermgr/web.key``, ``web.csr``);
the cluster CA signs the certificate for the node's hostname (``web.pem``, next
to the CA's ``cluster-ca.pem``).  The load balancer and the manager's health
probe verify it against the cluster CA and the node's hostname.

The node's web server reads the certificate through an include clustermgr
writes: ``/etc/nginx/clustermgr/node-web-tls.conf``, included by the node's
``server { listen 443 ssl; ... }``.  Gluu's own ``/etc/certs/httpd.crt`` and
``httpd.key`` stay as they are (Gluu's Java trust stores hold them).
"""

from __future__ import annotations

from clustermgr.pki.nodetls import NodeTls

NODE_WEB_TLS = NodeTls("/etc/certs/clustermgr", "root:root", stem="web", ca_name="cluster-ca.pem")
#: The nginx include (server context) naming the certificate the node serves.
NGINX_TLS_INCLUDE = "/etc/nginx/clustermgr/node-web-tls.conf"


def nginx_tls_include(cert_file: str, key_file: str) -> str:
    """The include's text: the certificate (chain) and key nginx serves on 443."""
    return (
        "# Written by clustermgr: the certificate this node serves on 443.\n"
        f"ssl_certificate {cert_file};\n"
        f"ssl_certificate_key {key_file};\n"
    )


def nginx_tls_include_issued() -> str:
    """The include naming the certificate the cluster CA issued."""
    return nginx_tls_include(NODE_WEB_TLS.cert_file, NODE_WEB_TLS.key_file)
