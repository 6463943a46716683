"""Validated input and read-only views of the inventory.

Front ends build a :class:`ServerSpec` from what the user typed; it refuses
anything malformed with an :class:`InvalidInput` naming the field, before any
connection is attempted or any row written.  The allow-lists are those of
:mod:`clustermgr.validation`, which lists every value that reaches a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clustermgr.errors import InvalidInput
from clustermgr.remote.target import HostKey
from clustermgr.topology import Role
from clustermgr.validation import (
    ADDRESS,
    CLUSTER_NAME,
    HOSTNAME,
    PORT,
    SSH_USER,
    FilePath,
    Hostname,
    checked,
    validate_address,
    validate_cluster_name,
    validate_hostname,
    validate_port,
    validate_ssh_user,
)

__all__ = [
    "ClusterSettings",
    "ClusterView",
    "Hostname",
    "ServerSpec",
    "ServerView",
    "validate_address",
    "validate_cluster_name",
    "validate_hostname",
    "validate_port",
    "validate_role",
]


def validate_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(f"invalid role {value!r}", hint=f"one of: {choices}") from None


@dataclass(frozen=True)
class ServerSpec:
    cluster: str
    hostname: str
    address: str
    role: Role
    ssh_port: int = 22
    ssh_user: str = "root"

    def __post_init__(self) -> None:
        """Built by hand (not by :meth:`parse`), the fields must already be canonical."""
        checked(CLUSTER_NAME, self.cluster)
        checked(HOSTNAME, self.hostname)
        checked(ADDRESS, self.address)
        checked(PORT, self.ssh_port)
        checked(SSH_USER, self.ssh_user)
        if not isinstance(self.role, Role):
            raise InvalidInput(f"invalid role {self.role!r}")

    @classmethod
    def parse(
        cls,
        *,
        cluster: str,
        hostname: str,
        address: str | None,
        role: str,
        ssh_port: int = 22,
        ssh_user: str = "root",
    ) -> ServerSpec:
        name = validate_hostname(hostname)
        return cls(
            cluster=validate_cluster_name(cluster),
            hostname=name,
            address=validate_address(address) if address else name,
            role=validate_role(role),
            ssh_port=validate_port(ssh_port),
            ssh_user=validate_ssh_user(ssh_user),
        )


class ClusterSettings(BaseModel):
    """Per-cluster overrides of the topology's defaults."""

    model_config = ConfigDict(extra="forbid")

    #: Written as root on every member: an absolute path from an allow-list.
    hosts_file: FilePath = "/etc/hosts"
    #: Each component's own settings by component name, validated by the component.
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClusterSettings:
        """``raw`` validated; InvalidInput names each field that is wrong."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
                f"{str(e['msg']).removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise InvalidInput(f"invalid cluster settings: {problems}") from None

    def section(self, component: str) -> dict[str, Any]:
        return dict(self.components.get(component, {}))


@dataclass(frozen=True)
class ServerView:
    id: int
    cluster: str
    hostname: str
    address: str
    ssh_port: int
    ssh_user: str
    role: Role
    credential: str | None
    host_keys: tuple[HostKey, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "hostname": self.hostname,
            "address": self.address,
            "ssh_port": self.ssh_port,
            "ssh_user": self.ssh_user,
            "role": self.role.value,
            "credential": self.credential,
            "host_keys": [
                {"algorithm": k.algorithm, "fingerprint": k.fingerprint} for k in self.host_keys
            ],
        }


@dataclass(frozen=True)
class ClusterView:
    id: int
    name: str
    settings: ClusterSettings
    servers: tuple[ServerView, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "settings": self.settings.model_dump(),
            "servers": [s.as_dict() for s in self.servers],
        }
