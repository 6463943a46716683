"""The exporters each server runs (pure): Debian's packages, where they listen, what they read.

Every exporter listens on 127.0.0.1 only, on its upstream default port
(:mod:`clustermgr.topology`): the manager reads them through each server's SSH
connection, so monitoring opens no port on the network.  Each package's init
script (and systemd unit) passes ``ARGS`` from ``/etc/default/<package>`` to the
daemon; clustermgr writes that file whole, ``ARGS`` in single quotes: both the shell
that sources it and systemd take what is inside as it is (a regular expression's
``$`` and ``|`` included); the init script splits it on blanks, which no option has.

The node exporter reports the space of every file system but those of a type its
``--collector.filesystem.fs-types-exclude`` leaves out.  Its default leaves out
``overlay``, the root file system of a server in a container: clustermgr passes the
same list without it (container engines' own overlays are under mount points the
exporter leaves out by default).

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
#: File system types the node exporter reports no space of: its default (Debian 12's
#: 1.5.0) without ``overlay``.
NODE_FS_TYPES_EXCLUDE = (
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
    "|iso9660|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs"
    "|sysfs|tracefs)$"
)
#: The node exporter's options (besides its listen address).
NODE_OPTIONS = (f"--collector.filesystem.fs-types-exclude={NODE_FS_TYPES_EXCLUDE}",)


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
        if any("'" in o or any(c.isspace() for c in o) for o in self.options):
            raise ValueError(f"{self.package}: an option with a quote or a blank: {args!r}")
        return f"{HEADER}ARGS='{args}'\n"


NODE = Exporter(
    "prometheus-node-exporter",
    topology.NODE_EXPORTER,
    frozenset({Role.IDENTITY, Role.PROXY}),
    options=NODE_OPTIONS,
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
