"""Validated input and read-only views of the inventory.

Front ends build a :class:`ServerSpec` from what the user typed; it refuses
anything malformed with an :class:`InvalidInput` naming the field, before any
connection is attempted or any row written.  The allow-lists are those of
:mod:`clustermgr.validation`, which lists every value that reaches a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

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
    "NodeState",
    "ServerSpec",
    "ServerView",
    "issuer_url",
    "nodes",
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


class NodeState(StrEnum):
    """Where a server is in its life in the cluster: the one place saying what each state
    means.  Components pick the servers they set up with :meth:`set_up` and the servers
    that take requests with :meth:`serves` (see :meth:`ClusterView.nodes`)."""

    #: In the cluster: set up by every component and sent requests by the balancer.
    MEMBER = "member"
    #: Being added (``node-add``): every component sets it up, but the load balancer
    #: sends it nothing until the job admits it (it becomes a member).
    JOINING = "joining"
    #: Being taken out (``node-remove``): no component includes it any more (nothing is
    #: applied to it, no other node refers to it), so a dead leaving node is never
    #: contacted.  The job removes it from the inventory once every component let it go.
    LEAVING = "leaving"

    @property
    def set_up(self) -> bool:
        """Whether components set the server up (and the others refer to it)."""
        return self is not NodeState.LEAVING

    @property
    def serves(self) -> bool:
        """Whether the load balancer sends it requests."""
        return self is NodeState.MEMBER


def validate_state(value: str) -> NodeState:
    try:
        return NodeState(value)
    except ValueError:
        choices = ", ".join(s.value for s in NodeState)
        raise InvalidInput(f"invalid node state {value!r}", hint=f"one of: {choices}") from None


@dataclass(frozen=True)
class ServerSpec:
    cluster: str
    hostname: str
    address: str
    role: Role
    ssh_port: int = 22
    ssh_user: str = "root"
    #: A server added to a running cluster is ``joining`` until ``node-add`` admits it.
    state: NodeState = NodeState.MEMBER

    def __post_init__(self) -> None:
        """Built by hand (not by :meth:`parse`), the fields must already be canonical."""
        checked(CLUSTER_NAME, self.cluster)
        checked(HOSTNAME, self.hostname)
        checked(ADDRESS, self.address)
        checked(PORT, self.ssh_port)
        checked(SSH_USER, self.ssh_user)
        if not isinstance(self.role, Role):
            raise InvalidInput(f"invalid role {self.role!r}")
        if not isinstance(self.state, NodeState):
            raise InvalidInput(f"invalid node state {self.state!r}")
        if self.state is NodeState.LEAVING:
            raise InvalidInput("a server is added as a member or joining, never leaving")
        if self.state is NodeState.JOINING and self.role is not Role.IDENTITY:
            raise InvalidInput(
                f"{self.hostname} joins as an identity node, not a {self.role.value} server",
                hint="only identity nodes join a running cluster",
            )

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
        state: str = NodeState.MEMBER.value,
    ) -> ServerSpec:
        name = validate_hostname(hostname)
        return cls(
            cluster=validate_cluster_name(cluster),
            hostname=name,
            address=validate_address(address) if address else name,
            role=validate_role(role),
            ssh_port=validate_port(ssh_port),
            ssh_user=validate_ssh_user(ssh_user),
            state=validate_state(state),
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
    state: NodeState = NodeState.MEMBER

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "hostname": self.hostname,
            "address": self.address,
            "ssh_port": self.ssh_port,
            "ssh_user": self.ssh_user,
            "role": self.role.value,
            "state": self.state.value,
            "credential": self.credential,
            "host_keys": [
                {"algorithm": k.algorithm, "fingerprint": k.fingerprint} for k in self.host_keys
            ],
        }


class _Node(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def state(self) -> str: ...


N = TypeVar("N", bound=_Node)


def nodes(servers: Iterable[N], *roles: Role, serving: bool = False) -> list[N]:
    """The servers components set up (every state but ``leaving``; inventory rows or
    views), of ``roles`` (every role when none is given); ``serving``: only those the
    balancer sends requests (members).  Every component picks its servers here."""
    return [
        s
        for s in servers
        if (not roles or Role(s.role) in roles)
        and (NodeState(s.state).serves if serving else NodeState(s.state).set_up)
    ]


@dataclass(frozen=True)
class ClusterView:
    id: int
    name: str
    settings: ClusterSettings
    servers: tuple[ServerView, ...]

    def nodes(self, *roles: Role, serving: bool = False) -> tuple[ServerView, ...]:
        """The servers components set up (every state but ``leaving``), of ``roles`` (all
        roles when none is given); ``serving``: only those the balancer sends requests."""
        return tuple(nodes(self.servers, *roles, serving=serving))

    def hostnames(self, *roles: Role, serving: bool = False) -> list[str]:
        """The hostnames of :meth:`nodes`."""
        return [s.hostname for s in nodes(self.servers, *roles, serving=serving)]

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
