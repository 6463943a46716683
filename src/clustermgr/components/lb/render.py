"""The NGINX files of the load balancer (pure): the site and the upstreams.

The upstreams live in a file of their own so a health change or a drain rewrites
only them.  Both upstreams hold every identity node; a node that is down or
drained stays listed, marked ``down`` (``ip_hash`` then keeps every other
client on its node).

Every name, address, path and location is checked against its allow-list
(:mod:`clustermgr.validation`) before it is written: a value that bypassed the
settings model or the inventory's checks is refused, never rendered.

NGINX verifies every node's certificate against the cluster CA and the node's
own hostname.  ``proxy_ssl_name`` is one value per location, so the upstreams
file maps the address NGINX is connecting to (the last one in
``$upstream_addr``, which lists every try of a request) to that node's hostname;
the map is ``volatile`` so a retry on the next node is checked against the next
node's name.
"""

from __future__ import annotations

import re

from clustermgr import topology
from clustermgr.components.lb.model import (
    FAIL_TIMEOUT,
    MAX_FAILS,
    STATUS_PATH,
    TLS,
    UPSTREAMS_FILE,
    Backend,
    Balancer,
)
from clustermgr.components.lb.settings import Upstream
from clustermgr.validation import ADDRESS, HOSTNAME, LOCATION, PATH, checked, host_port

HEADER = "# Written by clustermgr (load balancer); changes here are overwritten.\n"
KEEPALIVE = 16
#: Retried on the next node: the request never reached the app, or the app failed.
NEXT_UPSTREAM = "error timeout invalid_header http_500 http_502 http_503 http_504"
#: The hostname of the node NGINX is connecting to (what its certificate must name).
NODE_NAME_VAR = "$clustermgr_node_name"
#: Matches no certificate: an address outside the map is never trusted.
UNKNOWN_NODE = "unknown-node.invalid"


def _target(backend: Backend) -> str:
    """``address:port`` (an IPv6 address in brackets), the address allow-listed."""
    return host_port(checked(ADDRESS, backend.address), backend.port)


def server_line(backend: Backend) -> str:
    target = _target(backend)
    hostname = checked(HOSTNAME, backend.hostname)
    if backend.serving:
        return (
            f"    server {target} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT};  # {hostname}"
        )
    return f"    server {target} down;  # {hostname}: {backend.state.value}"


def upstreams(balancer: Balancer) -> str:
    """``backend`` (round robin) and ``backend_id`` (ip_hash), the same members."""
    members = "\n".join(server_line(b) for b in balancer.backends)
    blocks = []
    for name in Upstream:
        hashing = "    ip_hash;\n" if name is Upstream.BACKEND_ID else ""
        blocks.append(
            f"upstream {name.value} {{\n{hashing}{members}\n    keepalive {KEEPALIVE};\n}}\n"
        )
    # The upstreams come first: the watcher reads the members of the first block.
    return HEADER + "\n".join(blocks) + "\n" + node_names(balancer)


def node_names(balancer: Balancer) -> str:
    """The map from the address NGINX connects to, to the hostname it verifies."""
    lines = [
        f'    "~(^|\\s){re.escape(_target(b))}$" {checked(HOSTNAME, b.hostname)};'
        for b in balancer.backends
    ]
    body = "\n".join(["    volatile;", *lines, f"    default {UNKNOWN_NODE};"])
    return f"map $upstream_addr {NODE_NAME_VAR} {{\n{body}\n}}\n"


#: Each server's access log, in the format :func:`access_log_format` declares (set per
#: server: one more ``access_log`` at the http level would add to, not replace, the
#: distribution's own and write every request twice).
ACCESS_LOG = f"access_log {topology.NGINX_ACCESS_LOG} {topology.NGINX_ACCESS_FORMAT_NAME};"


def access_log_format() -> str:
    """The access log's ``log_format``: the one the log parser reads."""
    return f"log_format {topology.NGINX_ACCESS_FORMAT_NAME} '{topology.NGINX_ACCESS_FORMAT}';\n"


def _location(path: str, upstream: Upstream) -> str:
    path = checked(LOCATION, path)
    upstream = Upstream(upstream)
    return f"    location {path} {{\n        proxy_pass https://{upstream.value};\n    }}\n"


def site(balancer: Balancer) -> str:
    locations = "".join(_location(p, u) for p, u in balancer.locations.items())
    server_name = checked(HOSTNAME, balancer.server_name)
    cert_file = checked(PATH, balancer.cert_file)
    key_file = checked(PATH, balancer.key_file)
    return f"""{HEADER}include {UPSTREAMS_FILE};

{access_log_format()}
server {{
    listen {balancer.http_port} default_server;
    server_name _;
    {ACCESS_LOG}
    return 301 https://$host$request_uri;
}}

server {{
    listen {balancer.https_port} ssl default_server;
    server_name {server_name};
    {ACCESS_LOG}
    ssl_certificate {cert_file};
    ssl_certificate_key {key_file};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:clustermgr_lb:10m;

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto https;
    proxy_ssl_server_name on;
    proxy_ssl_name {NODE_NAME_VAR};
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 1;
    proxy_ssl_trusted_certificate {TLS.ca_file};
    proxy_ssl_session_reuse on;
    proxy_connect_timeout 3s;
    proxy_next_upstream {NEXT_UPSTREAM};

{locations}}}

server {{
    listen 127.0.0.1:{balancer.status_port};
    location = {STATUS_PATH} {{
        stub_status;
        access_log off;
        allow 127.0.0.1;
        deny all;
    }}
}}
"""
