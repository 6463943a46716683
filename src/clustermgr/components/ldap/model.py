"""Replication's names and settings: one place for each DN, path and default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr import topology
from clustermgr.components.ldap.ids import MAX_SERVER_ID, rid_for
from clustermgr.facts import ldif
from clustermgr.redact import Secret

SUFFIX = "o=gluu"
ACCESSLOG_SUFFIX = "cn=accesslog"
ACCESSLOG_DIR = "/var/lib/ldap/accesslog"
REPLICATOR_DN = f"cn=replicator,{SUFFIX}"
#: Root on the node, over ldapi:/// with SASL EXTERNAL (Debian's cn=config manager).
PEERCRED_ROOT = ldif.PEERCRED_ROOT
LDAPI = "ldapi:///"
LDAP_PORT = 389
OX_LDAP_PROPERTIES = topology.OX_LDAP_PROPERTIES
#: Where status writes its probe entries (created and removed by status).
PROBE_BRANCH = f"ou=replication-probe,{SUFFIX}"
MODULES = ("syncprov", "accesslog")
#: The cluster CA's certificate on every node: consumers verify providers with it.
TLS_CA_FILE = "/etc/ldap/tls/ca.pem"


@dataclass(frozen=True)
class ReplicationSettings:
    #: olcAccessLogPurge: keep log entries this long, scan this often (dd+hh:mm).
    purge_age: str = "07+00:00"
    purge_interval: str = "01+00:00"
    retry: str = "5 5 60 +"


@dataclass(frozen=True)
class Member:
    """An identity node taking part in replication."""

    hostname: str
    server_id: int

    @property
    def url(self) -> str:
        """What olcServerID names: the hostname the node answers to (never an IP)."""
        return f"ldap://{self.hostname}/"


@dataclass(frozen=True)
class Replication:
    """The desired replication of one cluster."""

    members: tuple[Member, ...]
    password: Secret
    settings: ReplicationSettings = ReplicationSettings()

    def __post_init__(self) -> None:
        ids = [m.server_id for m in self.members]
        if len(set(ids)) != len(ids) or not all(1 <= i <= MAX_SERVER_ID for i in ids):
            raise ValueError(f"server ids must be unique and within 1..{MAX_SERVER_ID}: {ids}")
        if len(ids) > 1:
            for i in ids:
                rid_for(i)  # every member is some node's provider: refuse early, clearly

    def peers(self, hostname: str) -> Sequence[Member]:
        return [m for m in self.members if m.hostname != hostname]
