"""The exporters each server runs (pure): Debian's packages, where they listen, what they read.

Every exporter listens on 127.0.0.1 only, on its upstream default port
(:mod:`clustermgr.topology`): the manager reads them through each server's SSH
connection, so monitoring opens no port on the network.  Each package's init
script (and systemd unit) passes ``ARGS`` from ``/etc/default/<package>`` to the
daemon; clustermgr writes that file whole.

The Redis exporter reads the node's Redis with the cluster's Redis password from a
file only root and the ``prometheus`` group read (never from a command line, which
every user of the host sees).  The NGINX exporter reads the proxy's ``stub_status``,
which the load balancer serves on 127.0.0.1.  Debian ships no OpenLDAP exporter:
slapd's own ``cn=monitor`` database is read over ldapi instead
(:mod:`clustermgr.components.metrics.monitordb`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from clustermgr import topology
from clustermgr.redact import Secret
from clustermgr.topology import PortUse, Role

LOOPBACK = "127.0.0.1"
HEADER = "# Written by clustermgr (monitoring); changes here are overwritten.\n"
#: The Redis exporter reads this Redis (the node's own, bound to 127.0.0.1).
REDIS_ADDRESS = f"redis://{LOOPBACK}:{topology.REDIS.port}"
#: How often the NGINX exporter tries stub_status when it starts (5 s apart) before it
#: gives up: at boot NGINX may come up after it.
NGINX_RETRIES = 12


@dataclass(frozen=True)
class Exporter:
    #: Debian's package: its service and its ``/etc/default`` file have the same name.
    package: str
    port: PortUse
    #: The roles whose servers run it.
    roles: frozenset[Role]
    #: Its options, before the listen address (which every exporter gets).
    options: tuple[str, ...]
    #: How its command line names the listen address option.
    listen_option: str
    #: A metrics line (up to its value) that says the exporter reads what it exports.
    up_line: str

    @property
    def defaults_file(self) -> str:
        return f"/etc/default/{self.package}"

    @property
    def listen(self) -> str:
        return f"{LOOPBACK}:{self.port.port}"

    @property
    def url(self) -> str:
        """Where it answers, on its own host."""
        return f"http://{self.listen}{topology.EXPORTER_METRICS_PATH}"

    def defaults(self) -> str:
        """The whole ``/etc/default`` file: ``ARGS`` for its init script or unit."""
        args = " ".join((f"{self.listen_option}={self.listen}", *self.options))
        return f'{HEADER}ARGS="{args}"\n'


NODE = Exporter(
    "prometheus-node-exporter",
    topology.NODE_EXPORTER,
    frozenset({Role.IDENTITY, Role.PROXY}),
    options=(),
    listen_option="--web.listen-address",
    up_line="node_exporter_build_info{",
)
REDIS = Exporter(
    "prometheus-redis-exporter",
    topology.REDIS_EXPORTER,
    frozenset({Role.IDENTITY}),
    options=(
        f"-redis.addr={REDIS_ADDRESS}",
        f"-redis.password-file={topology.REDIS_EXPORTER_PASSWORD_FILE}",
    ),
    listen_option="-web.listen-address",
    up_line="redis_up 1",
)
NGINX = Exporter(
    "prometheus-nginx-exporter",
    topology.NGINX_EXPORTER,
    frozenset({Role.PROXY}),
    options=(
        "-nginx.scrape-uri="
        f"http://{LOOPBACK}:{topology.NGINX_STATUS.port}{topology.NGINX_STATUS_PATH}",
        f"-nginx.retries={NGINX_RETRIES}",
    ),
    listen_option="-web.listen-address",
    up_line="nginx_up 1",
)
EXPORTERS: tuple[Exporter, ...] = (NODE, REDIS, NGINX)


def for_role(role: Role) -> tuple[Exporter, ...]:
    return tuple(e for e in EXPORTERS if role in e.roles)


def redis_password_file(password: Secret) -> str:
    """The Redis exporter's password file: the Redis it reads -> the password (JSON)."""
    return json.dumps({REDIS_ADDRESS: password.reveal()}) + "\n"


def password_secrets(password: Secret) -> tuple[Secret, ...]:
    """The password as the file holds it (JSON escapes some characters), to mask in diffs."""
    escaped = json.dumps(password.reveal())[1:-1]
    if escaped == password.reveal():
        return (password,)
    return (password, Secret(escaped, label=password.label))
