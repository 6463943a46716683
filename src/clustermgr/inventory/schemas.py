"""Validated input and read-only views of the inventory.

Front ends build a :class:`ServerSpec` from what the user typed; it refuses
anything malformed with an :class:`InvalidInput` naming the field, before any
connection is attempted or any row written.  The allow-lists are those of
:mod:`clustermgr.validation`, which lists every value that reaches a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

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

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "ClusterSettings",
    "ClusterSettingsUpdate",
    "ClusterView",
    "Hostname",
    "ServerSpec",
    "ServerView",
    "issuer_url",
    "validate_address",
    "validate_cluster_name",
    "validate_hostname",
    "validate_port",
    "validate_role",
]


def issuer_url(hostname: str) -> str:
    """The OpenID issuer of a Gluu installation named ``hostname``."""
    return f"https://{hostname}"


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
    #: The name clients reach the cluster by: the load balancer's server name and
    #: every identity node's issuer (``https://NAME``). Unset: the proxy's hostname.
    public_hostname: Hostname | None = None
    #: Each component's own settings by component name, validated by the component.
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClusterSettings:
        """``raw`` validated; InvalidInput names each field that is wrong."""
        return _parse(cls, raw)

    def section(self, component: str) -> dict[str, Any]:
        return dict(self.components.get(component, {}))


class ClusterSettingsUpdate(BaseModel):
    """A change of the cluster's own settings: the fields given replace the current ones
    (``public_hostname: null`` goes back to the proxy's hostname)."""

    model_config = ConfigDict(extra="forbid")

    public_hostname: Hostname | None = Field(
        default=None,
        description="The name clients reach the cluster by, served by every identity node "
        "as its issuer (https://NAME); null: the proxy's hostname.",
    )

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClusterSettingsUpdate:
        return _parse(cls, raw)


def _parse(model: type[M], raw: dict[str, Any]) -> M:
    """``raw`` validated as ``model``; InvalidInput names each field that is wrong."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidInput(f"invalid cluster settings: {problems}") from None


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

    @property
    def public_hostname(self) -> str | None:
        """The name clients reach the cluster by: the setting, else the (first) proxy's
        hostname; None while the cluster has neither."""
        if self.settings.public_hostname:
            return self.settings.public_hostname
        proxies = [s.hostname for s in self.servers if s.role is Role.PROXY]
        return proxies[0] if proxies else None

    @property
    def issuer(self) -> str | None:
        """What every identity node's OpenID discovery should name as its issuer."""
        return issuer_url(self.public_hostname) if self.public_hostname else None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "public_hostname": self.public_hostname,
            "settings": self.settings.model_dump(),
            "servers": [s.as_dict() for s in self.servers],
        }
