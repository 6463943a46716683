"""The API's bodies as pydantic models, so the OpenAPI spec documents every one.

Families per resource (``ServerCreate`` in, ``ServerPublic`` out); each
``Public`` model is built from the service layer's view with ``of``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from clustermgr.audit.service import AuditView
from clustermgr.auth.views import UserView
from clustermgr.inventory.schemas import ClusterView, NodeState, ServerView
from clustermgr.jobs.kinds import JobKind, KindCatalog
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import EventView, JobSummary, JobView
from clustermgr.topology import Role

#: Largest page of a listing.
MAX_PAGE = 1000
#: The largest id a query accepts (a signed 64-bit integer).
MAX_ID = 2**63 - 1
#: A cluster's name in a URL path (validated further where it is looked up).
ClusterName = Annotated[str, Path(max_length=64)]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the manager stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


#: A point in time, always with its offset (RFC 3339, as `format: date-time` requires).
Timestamp = Annotated[datetime, AfterValidator(_utc)]


class ErrorPublic(BaseModel):
    """Every error of the API has this shape (and a status code that says its class)."""

    error: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str
    hint: str | None = None


class HostKeyErrorPublic(ErrorPublic):
    """409 on adding a server: its host key needs a person's confirmation."""

    fingerprint: str | None = Field(
        default=None, description="SHA256 fingerprint the server presented (host_key_unknown)."
    )
    algorithm: str | None = None
    pinned: list[str] | None = Field(
        default=None, description="Fingerprints pinned before (host_key_changed)."
    )
    presented: str | None = Field(
        default=None,
        description="Fingerprint the server presents (host_key_changed, host_key_mismatch); "
        "trust it with POST /clusters/{cluster}/servers/{hostname}/trust.",
    )


# --- servers and clusters ----------------------------------------------------------


class HostKeyPublic(BaseModel):
    algorithm: str
    fingerprint: str


class ServerPublic(BaseModel):
    id: int
    cluster: str
    hostname: str
    address: str
    ssh_port: int
    ssh_user: str
    role: Role
    credential: str | None = Field(description="Fingerprint of the stored SSH key, if any.")
    host_keys: list[HostKeyPublic]
    state: NodeState = Field(
        default=NodeState.MEMBER,
        description="member; joining (being added: the balancer sends it nothing yet); "
        "leaving (being taken out: no component includes it).",
    )

    @classmethod
    def of(cls, view: ServerView) -> ServerPublic:
        return cls(
            id=view.id,
            cluster=view.cluster,
            hostname=view.hostname,
            address=view.address,
            ssh_port=view.ssh_port,
            ssh_user=view.ssh_user,
            role=view.role,
            credential=view.credential,
            state=view.state,
            host_keys=[
                HostKeyPublic(algorithm=k.algorithm, fingerprint=k.fingerprint)
                for k in view.host_keys
            ],
        )


class HostKeyCheckPublic(BaseModel):
    """A server's pinned keys beside the key it presents now."""

    pinned: list[HostKeyPublic]
    presented: HostKeyPublic
    trusted: bool = Field(description="The presented key is one of the pinned keys.")


class HostKeyTrust(BaseModel):
    """The new host key to pin, as a person compared it with the server's own."""

    model_config = ConfigDict(extra="forbid")

    fingerprint: str = Field(max_length=128, description="SHA256:... of the presented key.")


class ServerCreate(BaseModel):
    """A server to add. Without ``fingerprint`` an untrusted host key answers 409
    with the fingerprint the server presented: compare it, then post again with it."""

    model_config = ConfigDict(extra="forbid")

    cluster: str = Field(max_length=64, description="Created on first use.")
    hostname: str = Field(max_length=253, description="The server's DNS name (FQDN).")
    address: str | None = Field(
        default=None, max_length=253, description="IP or name to dial (default: hostname)."
    )
    role: Role
    ssh_port: int = Field(default=22, ge=1, le=65535)
    ssh_user: str = Field(default="root", max_length=32)
    private_key: SecretStr = Field(
        max_length=65536, description="The SSH private key to log in with (OpenSSH or PEM)."
    )
    passphrase: SecretStr | None = Field(default=None, max_length=1024)
    fingerprint: str | None = Field(
        default=None, max_length=128, description="Trust this host key (SHA256:...)."
    )
    joining: bool = Field(
        default=False,
        description="An identity node for a running cluster: added as joining, set up by "
        "the node-add job (POST /clusters/{cluster}/nodes/{hostname}/add).",
    )


class ClusterSummary(BaseModel):
    name: str
    servers: int


class ClusterPublic(BaseModel):
    id: int
    name: str
    public_hostname: str | None = Field(
        description="The name clients reach the cluster by: settings.public_hostname, else "
        "the proxy's hostname; null without either."
    )
    issuer: str | None = Field(
        description="What every identity node's OpenID discovery should name (https://NAME)."
    )
    settings: dict[str, Any]
    servers: list[ServerPublic]

    @classmethod
    def of(cls, view: ClusterView) -> ClusterPublic:
        return cls(
            id=view.id,
            name=view.name,
            public_hostname=view.public_hostname,
            issuer=view.issuer,
            settings=view.settings.model_dump(),
            servers=[ServerPublic.of(s) for s in view.servers],
        )


# --- jobs ----------------------------------------------------------------------------


class JobCreate(BaseModel):
    """What ``POST /api/v1/jobs`` reads; its kind checks the params (see job_create_schema)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=64, description="The job kind, e.g. preflight, plan, apply.")
    cluster: str = Field(max_length=64)
    params: dict[str, Any] = Field(
        default_factory=dict, description="The kind's params (validated by the kind)."
    )


def job_create_schema(kinds: KindCatalog) -> dict[str, Any]:
    """The documented body of ``POST /api/v1/jobs``: one variant per kind, with its params.

    Self-contained (no references), so it can stand in for :class:`JobCreate`'s own.
    """
    return {
        "title": "JobCreate",
        "description": "A job to start: its kind, its cluster and the kind's params.",
        "oneOf": [_job_variant(kind) for kind in kinds],
    }


def _job_variant(kind: JobKind[Any]) -> dict[str, Any]:
    raw = kind.params.model_json_schema()
    params = _inline(raw, raw.pop("$defs", {}))
    params["description"] = f"The params of {kind.name}."
    required = ["kind", "cluster"]
    if params.get("required"):
        required.append("params")
    return {
        "title": f"JobCreate[{kind.name}]",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {
            "kind": {"const": kind.name, "type": "string", "description": kind.title},
            "cluster": {"type": "string", "maxLength": 64},
            "params": params,
        },
    }


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with each ``$ref`` to ``defs`` replaced by the definition itself."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(defs[ref.removeprefix("#/$defs/")], defs), **rest}
    return {key: _inline(value, defs) for key, value in node.items()}


class JobPublic(BaseModel):
    id: int
    kind: str
    cluster: str
    state: JobState
    mutating: bool
    requested_by: str
    params: dict[str, Any]
    runner: str
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    cancel_requested: bool
    result: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, view: JobView) -> JobPublic:
        return cls.model_validate(view.as_dict())


class JobSummaryPublic(BaseModel):
    """A job in a list: its row, its report's verdict and step counts, not the report
    itself (``GET /api/v1/jobs/{id}`` has the params and the full result)."""

    id: int
    kind: str
    cluster: str
    state: JobState
    mutating: bool
    requested_by: str
    runner: str
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    cancel_requested: bool
    ok: bool | None = Field(
        description="The report's verdict; null while the job runs or when it has no report."
    )
    counts: dict[str, int] | None = Field(
        description="Steps per outcome (changed, unchanged, would-change, failed...) of a "
        "plan or an apply; null for other reports."
    )
    error: str | None

    @classmethod
    def of(cls, summary: JobSummary) -> JobSummaryPublic:
        return cls.model_validate(summary.as_dict())


class JobPage(BaseModel):
    """A page of jobs, newest first, as summaries."""

    items: list[JobSummaryPublic]
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next (older) page; null on the last page."
    )


class EventPublic(BaseModel):
    """One event of a job: the data of an SSE `step` message."""

    seq: int
    kind: str
    host: str | None
    step: str | None
    outcome: str | None
    message: str
    at: Timestamp
    #: On a plan's start (0) and each step's end: steps run so far, of ``planned``.
    done: int | None = None
    planned: int | None = None

    @classmethod
    def of(cls, view: EventView) -> EventPublic:
        return cls.model_validate(view.as_dict())


# --- audit and the caller ------------------------------------------------------------


class AuditPublic(BaseModel):
    id: int
    at: Timestamp
    actor: str
    action: str
    target: str
    result: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, view: AuditView) -> AuditPublic:
        return cls.model_validate(view.as_dict())


class AuditPage(BaseModel):
    items: list[AuditPublic]
    next_before_id: int | None


class UserPublic(BaseModel):
    id: int
    username: str
    totp_enabled: bool
    created_at: Timestamp
    role: str = Field(
        description="viewer, operator or admin: through a token, the token's role "
        "(at most its owner's)."
    )

    @classmethod
    def of(cls, view: UserView) -> UserPublic:
        return cls.model_validate(view.as_dict())


def next_before(ids: list[int], limit: int) -> int | None:
    """The cursor of the next page: the last id of a full page, else None."""
    return ids[-1] if ids and len(ids) >= limit else None
