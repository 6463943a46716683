"""The log sources of each role: the one list of what is followed on a server.

Each :class:`Source` names a file (or the systemd journal), how its records are
parsed and where a record starts.  Paths are the ones the components render
(:mod:`clustermgr.topology`) or the distribution's; a source that lives in the Gluu
Server chroot is marked so, and :func:`sources_for` puts the chroot's root before
its path on a node that has one (the platform fact's ``gluu_root``).

Which sources a host gets depends on its platform: where systemd runs, the
journal holds what syslog and sshd say; elsewhere ``/var/log/syslog`` and
``/var/log/auth.log`` do.  slapd logs through syslog, so its records (``conn``
and ``op`` kept as fields) come with the journal or syslog source; they are stored
as the source :data:`SLAPD` (the parser names it), so ``source:slapd`` finds them.
The web front
of an identity node is Apache on a Gluu node (in the chroot) and NGINX on a node
without a chroot; both keep the ids ``web-access`` and ``web-error``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from clustermgr import topology
from clustermgr.facts.platform import Platform
from clustermgr.topology import Role


class Format(StrEnum):
    """How a source's records are parsed (:mod:`clustermgr.components.logs.parse`)."""

    #: ``Dec  6 19:55:36 host prog[pid]: text`` or RFC 3339 stamps (rsyslog's newer default).
    SYSLOG = "syslog"
    #: One ``journalctl -o json`` entry per record.
    JOURNAL = "journal"
    #: ``2026-11-27 00:10:00,123 INFO  [thread] [logger] (File.java:1) - text``.
    LOG4J = "log4j"
    #: NGINX's (and Apache's ``combined``) access lines; the proxy's in
    #: :data:`clustermgr.topology.NGINX_ACCESS_FORMAT`.
    ACCESS = "access"
    NGINX_ERROR = "nginx-error"
    APACHE_ERROR = "apache-error"
    REDIS = "redis"
    STUNNEL = "stunnel"
    NUTCRACKER = "nutcracker"


class Where(StrEnum):
    """Which hosts of a role have a source, by their platform fact."""

    EVERY = "every"
    #: Where systemd runs, its journal holds what syslog and sshd say...
    SYSTEMD = "systemd"
    #: ...elsewhere syslog's files do.
    NO_SYSTEMD = "no-systemd"
    #: A node with a Gluu Server chroot (its web front is Apache)...
    GLUU_CHROOT = "gluu-chroot"
    #: ...and one without (the lab's nodes: their web front is NGINX).
    NO_GLUU_CHROOT = "no-gluu-chroot"

    def holds(self, platform: Platform) -> bool:
        match self:
            case Where.SYSTEMD | Where.NO_SYSTEMD:
                return (platform.init == "systemd") == (self is Where.SYSTEMD)
            case Where.GLUU_CHROOT | Where.NO_GLUU_CHROOT:
                return bool(platform.gluu_root) == (self is Where.GLUU_CHROOT)
        return True


#: A log4j record's first line; the lines after it up to the next one (a Java stack
#: trace) belong to it.
LOG4J_START = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
#: What a source id looks like: it is typed in ``source:`` filters.
SOURCE_ID = re.compile(r"[a-z][a-z0-9-]{0,31}")


@dataclass(frozen=True)
class Source:
    """One log a server keeps."""

    #: Short and stable: stored with every record and typed in ``source:`` filters.
    id: str
    title: str
    format: Format
    #: The file; None for the systemd journal.
    path: str | None = None
    #: A regex a record's first line matches; None when every line is a record.
    start: str | None = None
    #: True when the file is inside the Gluu Server chroot on a node that has one.
    in_chroot: bool = False
    where: Where = Where.EVERY

    @property
    def journal(self) -> bool:
        return self.path is None

    def under(self, gluu_root: str | None) -> Source:
        """This source with its path where it is on a node whose chroot is ``gluu_root``."""
        if self.path is None or not self.in_chroot or not gluu_root:
            return self
        return replace(self, path=gluu_root.rstrip("/") + self.path)

    def follower_config(self) -> dict[str, object]:
        """The source as the follower's configuration names it (without its resume point)."""
        if self.path is None:
            return {"id": self.id, "journal": True}
        return {"id": self.id, "path": self.path, "start": self.start}


def _stunnel(instance: str, role: str) -> Source:
    return Source(
        f"stunnel-{instance.removeprefix('clustermgr-')}",
        f"stunnel ({role})",
        Format.STUNNEL,
        topology.stunnel_log(instance),
    )


JOURNAL = Source("journal", "System journal", Format.JOURNAL, where=Where.SYSTEMD)
SYSLOG = Source("syslog", "System log", Format.SYSLOG, "/var/log/syslog", where=Where.NO_SYSTEMD)
AUTH = Source(
    "auth", "Logins (sshd, sudo)", Format.SYSLOG, "/var/log/auth.log", where=Where.NO_SYSTEMD
)
OXAUTH = Source(
    "oxauth",
    "oxAuth",
    Format.LOG4J,
    f"{topology.OXAUTH_LOG_DIR}/oxauth.log",
    LOG4J_START,
    in_chroot=True,
)
OXAUTH_AUDIT = Source(
    "oxauth-audit",
    "oxAuth audit",
    Format.LOG4J,
    f"{topology.OXAUTH_LOG_DIR}/oxauth_audit.log",
    LOG4J_START,
    in_chroot=True,
)
#: The identity node's web front: Apache in a Gluu chroot (Debian's layout)...
APACHE_ACCESS = Source(
    "web-access",
    "Web front access (Apache)",
    Format.ACCESS,
    "/var/log/apache2/access.log",
    in_chroot=True,
    where=Where.GLUU_CHROOT,
)
APACHE_ERROR = Source(
    "web-error",
    "Web front errors (Apache)",
    Format.APACHE_ERROR,
    "/var/log/apache2/error.log",
    in_chroot=True,
    where=Where.GLUU_CHROOT,
)
#: ...and NGINX (its distribution's default log files) on a node without one.
NGINX_FRONT_ACCESS = Source(
    "web-access",
    "Web front access (NGINX)",
    Format.ACCESS,
    topology.NGINX_ACCESS_LOG,
    where=Where.NO_GLUU_CHROOT,
)
NGINX_FRONT_ERROR = Source(
    "web-error",
    "Web front errors (NGINX)",
    Format.NGINX_ERROR,
    topology.NGINX_ERROR_LOG,
    where=Where.NO_GLUU_CHROOT,
)
REDIS = Source("redis", "Redis", Format.REDIS, topology.REDIS_LOG)
STUNNEL_REDIS = _stunnel(topology.STUNNEL_NODE_SERVER, "in front of Redis")
STUNNEL_CACHE = _stunnel(topology.STUNNEL_NODE_CLIENT, "to the proxy")
NGINX_ACCESS = Source(
    "nginx-access", "Load balancer access", Format.ACCESS, topology.NGINX_ACCESS_LOG
)
NGINX_ERROR = Source(
    "nginx-error", "Load balancer errors", Format.NGINX_ERROR, topology.NGINX_ERROR_LOG
)
NUTCRACKER = Source("nutcracker", "twemproxy", Format.NUTCRACKER, topology.NUTCRACKER_LOG)
STUNNEL_NODES = _stunnel(topology.STUNNEL_PROXY_CLIENTS, "to the nodes")
STUNNEL_TWEMPROXY = _stunnel(topology.STUNNEL_PROXY_SERVER, "in front of twemproxy")

#: What every host logs through syslog.
SYSTEM: tuple[Source, ...] = (JOURNAL, SYSLOG, AUTH)

#: The one list: each role's sources, the hosts that have each in its ``where``.
SOURCES_BY_ROLE: Mapping[Role, tuple[Source, ...]] = {
    Role.IDENTITY: (
        *SYSTEM,
        OXAUTH,
        OXAUTH_AUDIT,
        APACHE_ACCESS,
        APACHE_ERROR,
        NGINX_FRONT_ACCESS,
        NGINX_FRONT_ERROR,
        REDIS,
        STUNNEL_REDIS,
        STUNNEL_CACHE,
    ),
    Role.PROXY: (*SYSTEM, NGINX_ACCESS, NGINX_ERROR, NUTCRACKER, STUNNEL_NODES, STUNNEL_TWEMPROXY),
}

#: Every source there is (a web front's two variants share their ids).
ALL_SOURCES: tuple[Source, ...] = tuple(
    dict.fromkeys(s for ss in SOURCES_BY_ROLE.values() for s in ss)
)
#: The source slapd's records are stored as: they are read from the journal or syslog,
#: whose parser gives them this source.
SLAPD = "slapd"
#: Every source id a record may carry.
SOURCE_IDS: frozenset[str] = frozenset({*(s.id for s in ALL_SOURCES), SLAPD})


def sources_for(role: Role, platform: Platform) -> tuple[Source, ...]:
    """The sources a host of ``role`` follows, with the paths they have on it."""
    return tuple(
        s.under(platform.gluu_root) for s in SOURCES_BY_ROLE[role] if s.where.holds(platform)
    )
