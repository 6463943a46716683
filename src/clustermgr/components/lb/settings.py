"""The load balancer's choices, kept in the cluster's settings (inventory).

Which upstream serves each location, where the HTTPS certificate comes from,
and which identity nodes a person drained for maintenance.  Defaults follow
TOPOLOGY.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Upstream(StrEnum):
    #: Round robin: every request may go to another node.
    BACKEND = "backend"
    #: ``ip_hash``: a client stays on one node while it is up.
    BACKEND_ID = "backend_id"


DEFAULT_LOCATIONS: Mapping[str, Upstream] = {
    "/": Upstream.BACKEND,
    "/.well-known": Upstream.BACKEND,
    "/oxauth": Upstream.BACKEND,
    "/identity": Upstream.BACKEND_ID,
    "/idp": Upstream.BACKEND_ID,
    "/passport": Upstream.BACKEND_ID,
    "/casa": Upstream.BACKEND_ID,
}

#: Said wherever a person chooses a location's upstream.
SCIM_CAVEAT = (
    "backend_id keeps each client on one node (ip_hash): /identity (oxTrust, SCIM), "
    "/idp, /passport and /casa keep per-node state. Switching one of them to backend "
    "(round robin) spreads load, but SCIM flows and logins in progress break when a "
    "node dies or a client is sent to another node."
)


class CertificateSource(StrEnum):
    #: The proxy makes its key and CSR; the cluster CA signs (the key never leaves it).
    CA = "ca"
    #: Files the user placed on the proxy (e.g. from a public CA); ``cert_file``/``key_file``.
    IMPORTED = "imported"


class LbSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locations: dict[str, Upstream] = Field(default_factory=lambda: dict(DEFAULT_LOCATIONS))
    certificate: CertificateSource = CertificateSource.CA
    #: With ``imported``: absolute paths on the proxy.
    cert_file: str | None = None
    key_file: str | None = None
    #: Identity nodes taken out of the upstreams by hand (hostnames).
    drained: list[str] = Field(default_factory=list)
    #: Set when ``lb apply`` succeeded: the balancer is set up (the watcher checks it).
    applied: bool = False

    @field_validator("locations")
    @classmethod
    def _known_locations(cls, value: dict[str, Upstream]) -> dict[str, Upstream]:
        unknown = set(value) - set(DEFAULT_LOCATIONS)
        if unknown:
            raise ValueError(
                f"unknown locations {', '.join(sorted(unknown))}; "
                f"known: {', '.join(DEFAULT_LOCATIONS)}"
            )
        return {**DEFAULT_LOCATIONS, **value}
