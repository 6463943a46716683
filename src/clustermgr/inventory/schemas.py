"""Validated input and read-only views of the inventory.

Front ends build a :class:`ServerSpec` from what the user typed; it refuses
anything malformed with an :class:`InvalidInput` naming the field, before any
connection is attempted or any row written.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clustermgr.errors import InvalidInput
from clustermgr.remote.target import HostKey
from clustermgr.topology import Role

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_CLUSTER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def validate_hostname(value: str) -> str:
    """An RFC 1123 host name, lower-cased. IP addresses are not host names."""
    name = value.strip().lower().rstrip(".")
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(
            f"invalid hostname {value!r}",
            hint="use the server's DNS name, e.g. idp1.example.org (letters, digits, "
            "hyphens; no IP address, no underscore)",
        )
    return name


def _pydantic_hostname(value: str) -> str:
    try:
        return validate_hostname(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


#: A host name in a pydantic model (job params, API bodies): validated as above.
Hostname = Annotated[str, AfterValidator(_pydantic_hostname)]


def validate_address(value: str) -> str:
    """An IPv4/IPv6 address or a resolvable host name."""
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    try:
        return validate_hostname(text)
    except InvalidInput:
        raise InvalidInput(
            f"invalid address {value!r}", hint="give an IP address or a host name"
        ) from None


def validate_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise InvalidInput(f"invalid SSH port {value}", hint="a port is between 1 and 65535")
    return value


def validate_cluster_name(value: str) -> str:
    if not _CLUSTER.match(value):
        raise InvalidInput(
            f"invalid cluster name {value!r}",
            hint="lower-case letters, digits, '-' and '_', at most 64 characters",
        )
    return value


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
        if not _USER.match(ssh_user):
            raise InvalidInput(f"invalid SSH user {ssh_user!r}")
        name = validate_hostname(hostname)
        return cls(
            cluster=validate_cluster_name(cluster),
            hostname=name,
            address=validate_address(address) if address else name,
            role=validate_role(role),
            ssh_port=validate_port(ssh_port),
            ssh_user=ssh_user,
        )


class ClusterSettings(BaseModel):
    """Per-cluster overrides of the topology's defaults."""

    model_config = ConfigDict(extra="forbid")

    hosts_file: str = "/etc/hosts"
    #: Each component's own settings by component name, validated by the component.
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)

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
