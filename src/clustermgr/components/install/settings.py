"""The cluster's install settings: where the package comes from and what setup is told.

Kept in the cluster's settings (inventory), validated here at the boundary every
front end goes through.  The public hostname is the cluster's own setting (every node
serves it as the issuer); the admin password is not here: it is sealed in the
inventory as a cluster secret (see :mod:`clustermgr.components.install.store`).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from clustermgr.validation import AptWord, Country, Email, Key, Sha256, Url, Version, Words

#: The package clustermgr installs on every identity node.
PACKAGE = "gluu-server"


class Source(StrEnum):
    #: An apt repository: its URL, suite, component and signing key.
    REPOSITORY = "repository"
    #: A package file the user gave the manager: copied to each node and installed.
    OFFLINE = "offline"


class InstallSettings(BaseModel):
    """What every identity node is installed with: the same on all of them."""

    model_config = ConfigDict(extra="forbid")

    organization: Words
    city: Words
    state: Words
    country: Country
    admin_email: Email
    #: The package version every node runs (pinned: a node never drifts to a newer one).
    version: Version
    source: Source = Source.REPOSITORY
    repository_url: Url | None = None
    repository_suite: AptWord = "stable"
    repository_component: AptWord = "main"
    #: The repository's signing key (armored), installed as the source's only key.
    repository_key: Key | None = None
    #: With ``offline``: the package file's SHA-256, as the manager keeps it.
    package_sha256: Sha256 | None = None

    @model_validator(mode="after")
    def _source_complete(self) -> InstallSettings:
        if self.source is Source.REPOSITORY and not (self.repository_url and self.repository_key):
            raise ValueError("a repository source needs repository_url and repository_key")
        if self.source is Source.OFFLINE and not self.package_sha256:
            raise ValueError("an offline source needs the package file (package_sha256)")
        return self
