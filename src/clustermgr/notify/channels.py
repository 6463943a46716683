"""What a channel is: its kind's settings (the allow-listed boundary every front end goes
through), the severities it takes, and the view every front end shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret
from clustermgr.validation import Address, ChannelName, ClusterName, Email, FilePath, Login
from clustermgr.validation import WebhookUrl as WebhookUrlText

#: The most recipients one email channel has.
MAX_RECIPIENTS = 20
#: The longest SMTP password accepted.
MAX_PASSWORD = 512


class Kind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Level(StrEnum):
    """A channel's least severity: it gets the alerts of this severity and above."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_RANK = {Level.INFO.value: 0, Level.WARNING.value: 1, Level.CRITICAL.value: 2}


def takes(least: str, severity: str) -> bool:
    """Whether a channel whose least severity is ``least`` gets an alert of ``severity``
    (a severity it does not know counts as critical: never filtered out by mistake)."""
    return _RANK.get(severity, 2) >= _RANK.get(least, 2)


class EmailSettings(BaseModel):
    """An SMTP relay reached with STARTTLS (unless ``starttls`` is off for a local relay)."""

    model_config = ConfigDict(extra="forbid")

    host: Address
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    #: A CA file (PEM) to trust for the relay's certificate instead of the system's.
    ca_file: FilePath | None = None
    username: Login | None = None
    sender: Email
    recipients: list[Email] = Field(min_length=1, max_length=MAX_RECIPIENTS)


class WebhookSettings(BaseModel):
    """Where a JSON message is posted (Slack-compatible ``text`` and structured fields)."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrlText


class ChannelSpec(BaseModel):
    """A channel's name and filters."""

    model_config = ConfigDict(extra="forbid")

    name: ChannelName
    min_severity: Level = Level.WARNING
    #: Only this cluster's alerts; None: every cluster's.
    cluster: ClusterName | None = None
    enabled: bool = True


def _fields(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
    )


def parse_spec(**values: Any) -> ChannelSpec:
    try:
        return ChannelSpec.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(f"invalid channel: {_fields(exc)}") from None


def parse_settings(kind: str, values: dict[str, Any]) -> EmailSettings | WebhookSettings:
    """The kind's settings from ``values`` (InvalidInput naming each wrong field)."""
    try:
        chosen = Kind(kind)
    except ValueError:
        raise InvalidInput(f"invalid channel kind {kind!r}", hint="use email or webhook") from None
    model: type[EmailSettings | WebhookSettings] = (
        EmailSettings if chosen is Kind.EMAIL else WebhookSettings
    )
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(f"invalid {chosen.value} channel: {_fields(exc)}") from None


def check_password(password: Secret) -> Secret:
    """An SMTP password the protocol can carry (never shown in the message)."""
    value = password.reveal()
    if not value or len(value) > MAX_PASSWORD or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(
            "invalid SMTP password: it must be 1 to 512 characters without control characters"
        )
    return password


@dataclass(frozen=True)
class ChannelView:
    id: int
    name: str
    kind: str
    min_severity: str
    cluster: str | None
    enabled: bool
    #: The kind's settings (no secret); ``has_password`` says whether one is stored.
    config: dict[str, Any]
    has_password: bool
    failing_since: datetime | None
    last_error: str
    last_sent_at: datetime | None
    #: Messages waiting to be sent.
    pending: int = 0

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        return "failing" if self.failing_since is not None else "ok"

    @property
    def target(self) -> str:
        """Where it sends, in a few words."""
        if self.kind == Kind.EMAIL:
            return f"{', '.join(self.config.get('recipients', []))} via {self.config.get('host')}"
        return str(self.config.get("url", ""))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "min_severity": self.min_severity,
            "cluster": self.cluster,
            "enabled": self.enabled,
            "state": self.state,
            "config": dict(self.config),
            "has_password": self.has_password,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
            "last_error": self.last_error,
            "last_sent_at": self.last_sent_at.isoformat() if self.last_sent_at else None,
            "pending": self.pending,
        }
