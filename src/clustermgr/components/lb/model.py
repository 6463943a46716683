"""The desired load balancer: its backends, locations, certificate, and file paths."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from clustermgr import topology
from clustermgr.components.lb.settings import DEFAULT_LOCATIONS, Upstream
from clustermgr.pki.nodetls import NodeTls

SITE_FILE = "/etc/nginx/conf.d/clustermgr-lb.conf"
#: The upstreams alone, so a health change rewrites only them; outside conf.d (not
#: included twice), included by the site file.
UPSTREAMS_FILE = "/etc/nginx/clustermgr/upstreams.conf"
DEFAULT_SITE = "/etc/nginx/sites-enabled/default"
#: The proxy's HTTPS key, CSR and certificate, and the cluster CA's certificate.
TLS = NodeTls(
    "/etc/nginx/tls", "root:root", stem="lb", ca_name="cluster-ca.pem", directory_mode="0755"
)
CERT_FILE = TLS.cert_file
KEY_FILE = TLS.key_file
STATUS_PATH = topology.NGINX_STATUS_PATH
#: The identity app's service on a node (inside the Gluu chroot on a real one).
IDENTITY_APP_SERVICE = "oxauth"
#: Passive checks: a node failing this often within ``FAIL_TIMEOUT`` is skipped that long.
MAX_FAILS = 2
FAIL_TIMEOUT = "10s"


class BackendState(StrEnum):
    UP = "up"
    #: Failing its health check: out of the upstreams until it passes again.
    DOWN = "down"
    #: Taken out by a person for maintenance.
    DRAINED = "drained"
    #: Being added to the cluster: set up (its certificate), sent nothing until the
    #: node-add admits it.
    JOINING = "joining"


@dataclass(frozen=True)
class Backend:
    hostname: str
    address: str
    port: int
    state: BackendState = BackendState.UP

    @property
    def serving(self) -> bool:
        return self.state is BackendState.UP


@dataclass(frozen=True)
class Balancer:
    """What NGINX on ``proxy`` should be."""

    proxy: str
    server_name: str
    backends: tuple[Backend, ...]
    https_port: int
    http_port: int
    status_port: int
    cert_file: str = CERT_FILE
    key_file: str = KEY_FILE
    locations: Mapping[str, Upstream] = field(default_factory=lambda: dict(DEFAULT_LOCATIONS))
