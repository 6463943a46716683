"""The load balancer's choices, kept in the cluster's settings (inventory).

Which upstream serves each location, where the HTTPS certificate comes from,
and which identity nodes a person drained for maintenance.  Defaults follow
TOPOLOGY.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clustermgr import validation
from clustermgr.validation import FilePath, Hostname, Location


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


#: Said wherever a certificate path is asked for.
PATH_RULE = validation.PATH_RULE

#: A file on the proxy, written into NGINX's configuration: an absolute path from an
#: allow-list of characters (``PATH_RULE``).
CertificatePath = Annotated[FilePath, Field(max_length=4096)]


class LbSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locations: dict[Location, Upstream] = Field(default_factory=lambda: dict(DEFAULT_LOCATIONS))
    certificate: CertificateSource = CertificateSource.CA
    #: With ``imported``: absolute paths on the proxy.
    cert_file: CertificatePath | None = None
    key_file: CertificatePath | None = None
    #: Identity nodes taken out of the upstreams by hand (hostnames).
    drained: list[Hostname] = Field(default_factory=list)
    #: Set when ``lb apply`` succeeded: the balancer is set up (the watcher checks it).
    applied: bool = False

    @field_validator("locations")
    @classmethod
    def _known_locations(cls, value: dict[Location, Upstream]) -> dict[Location, Upstream]:
        unknown = set(value) - set(DEFAULT_LOCATIONS)
        if unknown:
            raise ValueError(
                f"unknown locations {', '.join(sorted(unknown))}; "
                f"known: {', '.join(DEFAULT_LOCATIONS)}"
            )
        return {**DEFAULT_LOCATIONS, **value}


class LbSettingsUpdate(BaseModel):
    """A change of the settings: the fields given replace the current ones.

    Changes take effect at the next apply; drains are operations of their own.
    """

    model_config = ConfigDict(extra="forbid")

    locations: dict[Location, Upstream] | None = Field(default=None, description=SCIM_CAVEAT)
    certificate: CertificateSource | None = None
    cert_file: CertificatePath | None = None
    key_file: CertificatePath | None = None

    def applied_to(self, current: LbSettings) -> LbSettings:
        """``current`` with this change (validated as a whole: ValueError/ValidationError)."""
        changes = self.model_dump(exclude_unset=True)
        if changes.get("locations") is not None:
            changes["locations"] = {**current.locations, **changes["locations"]}
        elif "locations" in changes:
            del changes["locations"]
        merged = LbSettings.model_validate({**current.model_dump(), **changes})
        if merged.certificate is CertificateSource.IMPORTED and not (
            merged.cert_file and merged.key_file
        ):
            raise ValueError("an imported certificate needs both cert_file and key_file")
        return merged
