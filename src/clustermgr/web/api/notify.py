"""/api/v1/notify/channels: where every alert's notifications go; send a test."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from clustermgr.errors import InvalidInput
from clustermgr.notify import service
from clustermgr.notify.channels import (
    ChannelSpec,
    ChannelView,
    EmailSettings,
    Level,
    WebhookSettings,
    parse_spec,
)
from clustermgr.redact import Secret
from clustermgr.web.api.models import Timestamp
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/notify", tags=["notify"])

ChannelName = Annotated[str, Path(max_length=64)]


class ChannelBody(BaseModel):
    """A channel: exactly one of ``email`` and ``webhook`` says its kind and settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, description="Lower-case letters, digits, - and _.")
    min_severity: Level = Level.WARNING
    cluster: str | None = Field(
        default=None, max_length=64, description="Only this cluster's alerts; null: all."
    )
    enabled: bool = True
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
    password: SecretStr | None = Field(
        default=None, max_length=512, description="The SMTP password (sealed, never shown)."
    )
    forget_password: bool = Field(
        default=False, description="On a change: drop the stored SMTP password."
    )

    def parts(self) -> tuple[ChannelSpec, EmailSettings | WebhookSettings, Secret | None]:
        spec = parse_spec(
            name=self.name,
            min_severity=self.min_severity,
            cluster=self.cluster,
            enabled=self.enabled,
        )
        settings: EmailSettings | WebhookSettings
        if self.email is not None and self.webhook is None:
            settings = self.email
        elif self.webhook is not None and self.email is None:
            settings = self.webhook
        else:
            raise InvalidInput("give exactly one of email and webhook")
        password = (
            Secret(self.password.get_secret_value(), label="smtp-password")
            if self.password is not None
            else None
        )
        return spec, settings, password


class ChannelPublic(BaseModel):
    name: str
    kind: str
    min_severity: str
    cluster: str | None
    enabled: bool
    state: str = Field(description="ok, failing or disabled.")
    config: dict[str, Any] = Field(description="The kind's settings (never the password).")
    has_password: bool
    failing_since: Timestamp | None
    last_error: str
    last_sent_at: Timestamp | None
    pending: int = Field(description="Messages waiting to be sent.")

    @classmethod
    def of(cls, view: ChannelView) -> ChannelPublic:
        return cls.model_validate(view.as_dict())


class TestSent(BaseModel):
    channel: str
    sent: bool


@router.get("/channels")
async def list_channels(web: WebDep) -> list[ChannelPublic]:
    """Every channel with its state."""
    return [ChannelPublic.of(v) for v in await service.list_channels(web.manager)]


@router.post("/channels", status_code=201, responses=errors(400, 403, 409, 422))
async def add_channel(body: ChannelBody, web: WebDep, user: ApiUser) -> ChannelPublic:
    """Add a channel (admin)."""
    spec, settings, password = body.parts()
    view = await service.add_channel(
        web.manager, spec, settings, password=password, actor=user.username, as_role=user.role
    )
    return ChannelPublic.of(view)


@router.get("/channels/{name}", responses=errors(400, 404, 422))
async def get_channel(name: ChannelName, web: WebDep) -> ChannelPublic:
    return ChannelPublic.of(await service.get_channel(web.manager, name))


@router.put("/channels/{name}", responses=errors(400, 403, 404, 409, 422))
async def update_channel(
    name: ChannelName, body: ChannelBody, web: WebDep, user: ApiUser
) -> ChannelPublic:
    """Replace a channel's settings (admin); its password stays unless one is given or
    ``forget_password``."""
    spec, settings, password = body.parts()
    view = await service.update_channel(
        web.manager,
        name,
        spec,
        settings,
        password=password,
        forget_password=body.forget_password,
        actor=user.username,
        as_role=user.role,
    )
    return ChannelPublic.of(view)


@router.delete(
    "/channels/{name}",
    status_code=204,
    response_class=Response,
    responses=errors(400, 403, 404, 422),
)
async def remove_channel(name: ChannelName, web: WebDep, user: ApiUser) -> Response:
    """Remove a channel and what waited for it (admin)."""
    await service.remove_channel(web.manager, name, actor=user.username, as_role=user.role)
    return Response(status_code=204)


@router.post("/channels/{name}/enable", responses=errors(400, 403, 404, 422))
async def enable_channel(name: ChannelName, web: WebDep, user: ApiUser) -> ChannelPublic:
    view = await service.set_enabled(
        web.manager, name, True, actor=user.username, as_role=user.role
    )
    return ChannelPublic.of(view)


@router.post("/channels/{name}/disable", responses=errors(400, 403, 404, 422))
async def disable_channel(name: ChannelName, web: WebDep, user: ApiUser) -> ChannelPublic:
    view = await service.set_enabled(
        web.manager, name, False, actor=user.username, as_role=user.role
    )
    return ChannelPublic.of(view)


@router.post("/channels/{name}/test", responses=errors(400, 403, 404, 422, 502))
async def test_channel(name: ChannelName, web: WebDep, user: ApiUser) -> TestSent:
    """Send a test message now (admin): 200 when the relay or receiver took it, 502
    ``delivery_failed`` with the reason in words otherwise."""
    view = await service.test_channel(web.manager, name, actor=user.username, as_role=user.role)
    return TestSent(channel=view.name, sent=True)
