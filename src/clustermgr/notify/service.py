"""Notification channels: list, add, change, remove, enable, disable, test.

Everyone may list them; changing one or sending a test takes the admin role.
Every change writes an audit entry (as ``actor``); the SMTP password is sealed
with the manager's key like every credential and never shown: a view says only
whether one is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import AlreadyExists, InvalidInput, NotFound
from clustermgr.inventory.models import ClusterSecret, Credential
from clustermgr.notify.channels import (
    ChannelSpec,
    ChannelView,
    EmailSettings,
    Kind,
    WebhookSettings,
    check_password,
)
from clustermgr.notify.deliver import deliver
from clustermgr.notify.message import Notice, alerts_link
from clustermgr.notify.models import Channel, OutboxRow
from clustermgr.redact import Secret
from clustermgr.validation import validate_channel_name


def _view(row: Channel, pending: int = 0) -> ChannelView:
    return ChannelView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        min_severity=row.min_severity,
        cluster=row.cluster,
        enabled=row.enabled,
        config=dict(row.config),
        has_password=row.ciphertext is not None,
        failing_since=row.failing_since,
        last_error=row.last_error,
        last_sent_at=row.last_sent_at,
        pending=pending,
    )


async def list_channels(manager: Manager) -> list[ChannelView]:
    """Every channel by name, with how many messages wait to go to each."""
    waiting = (
        select(OutboxRow.channel_id, func.count())
        .where(OutboxRow.sent_at.is_(None))
        .group_by(OutboxRow.channel_id)
    )
    async with manager.db.session() as session:
        counts = {cid: int(n) for cid, n in (await session.execute(waiting)).all()}
        rows = await session.scalars(select(Channel).order_by(Channel.name))
        return [_view(r, counts.get(r.id, 0)) for r in rows]


async def _row(session: AsyncSession, name: str) -> Channel:
    found = await session.scalar(select(Channel).where(Channel.name == name))
    if found is None:
        raise NotFound(
            f"no notification channel {name!r}", hint="list them with `clustermgr notify list`"
        )
    return found


async def get_channel(manager: Manager, name: str) -> ChannelView:
    async with manager.db.session() as session:
        row = await _row(session, validate_channel_name(name))
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.channel_id == row.id, OutboxRow.sent_at.is_(None))
        )
        return _view(row, int(pending or 0))


async def _seal(session: AsyncSession, manager: Manager, password: Secret) -> bytes:
    """``password`` sealed; the key is made only when nothing was sealed with one before."""
    sealed = sum(
        [
            await session.scalar(select(func.count()).select_from(Credential)) or 0,
            await session.scalar(select(func.count()).select_from(ClusterSecret)) or 0,
            await session.scalar(
                select(func.count()).select_from(Channel).where(Channel.ciphertext.is_not(None))
            )
            or 0,
        ]
    )
    return manager.vault.seal({"password": password}, first=not sealed)


def _config(settings: EmailSettings | WebhookSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json")


def _kind_of(settings: EmailSettings | WebhookSettings) -> Kind:
    return Kind.EMAIL if isinstance(settings, EmailSettings) else Kind.WEBHOOK


def _detail(spec: ChannelSpec, settings: EmailSettings | WebhookSettings) -> dict[str, object]:
    shown: dict[str, object] = {"kind": _kind_of(settings).value, **spec.model_dump(mode="json")}
    if isinstance(settings, EmailSettings):
        shown.update(host=settings.host, recipients=list(settings.recipients))
    return shown


async def add_channel(
    manager: Manager,
    spec: ChannelSpec,
    settings: EmailSettings | WebhookSettings,
    *,
    password: Secret | None = None,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> ChannelView:
    """A new channel (AlreadyExists for a name taken)."""
    async with audit.audited(
        manager, actor=actor, action="notify.add", target=spec.name, detail=_detail(spec, settings)
    ):
        require(as_role, UserRole.ADMIN, "adding a notification channel")
        if password is not None and not isinstance(settings, EmailSettings):
            raise InvalidInput("only an email channel has a password")
        if password is not None:
            check_password(password)
        async with manager.db.session() as session:
            if await session.scalar(select(Channel.id).where(Channel.name == spec.name)):
                raise AlreadyExists(f"notification channel {spec.name!r} exists already")
            row = Channel(
                name=spec.name,
                kind=_kind_of(settings).value,
                min_severity=spec.min_severity.value,
                cluster=spec.cluster,
                enabled=spec.enabled,
                config=_config(settings),
                ciphertext=await _seal(session, manager, password) if password else None,
                created_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            return _view(row)


async def update_channel(
    manager: Manager,
    name: str,
    spec: ChannelSpec,
    settings: EmailSettings | WebhookSettings,
    *,
    password: Secret | None = None,
    forget_password: bool = False,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> ChannelView:
    """Replace a channel's filters and settings (its kind stays); the stored password
    stays unless a new one is given or ``forget_password``."""
    async with audit.audited(
        manager, actor=actor, action="notify.update", target=name, detail=_detail(spec, settings)
    ):
        require(as_role, UserRole.ADMIN, "changing a notification channel")
        if password is not None:
            check_password(password)
        async with manager.db.session() as session:
            row = await _row(session, validate_channel_name(name))
            if row.kind != _kind_of(settings).value:
                raise InvalidInput(
                    f"channel {name!r} is an {row.kind} channel: its kind cannot change",
                    hint="remove it and add a new one",
                )
            if spec.name != row.name and await session.scalar(
                select(Channel.id).where(Channel.name == spec.name)
            ):
                raise AlreadyExists(f"notification channel {spec.name!r} exists already")
            row.name, row.min_severity, row.cluster = spec.name, spec.min_severity, spec.cluster
            row.config = _config(settings)
            await _enable(session, row, spec.enabled)
            if password is not None:
                row.ciphertext = await _seal(session, manager, password)
            elif forget_password or not isinstance(settings, EmailSettings):
                row.ciphertext = None
            await session.flush()
            return _view(row)


async def _enable(session: AsyncSession, row: Channel, enabled: bool) -> None:
    """A disabled channel gets nothing, not even what waited for it: its rows go."""
    if row.enabled and not enabled:
        await session.execute(
            delete(OutboxRow).where(OutboxRow.channel_id == row.id, OutboxRow.sent_at.is_(None))
        )
        row.failing_since, row.last_error = None, ""
    row.enabled = enabled


async def set_enabled(
    manager: Manager,
    name: str,
    enabled: bool,
    *,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> ChannelView:
    action = "notify.enable" if enabled else "notify.disable"
    async with audit.audited(manager, actor=actor, action=action, target=name):
        require(as_role, UserRole.ADMIN, "enabling or disabling a notification channel")
        async with manager.db.session() as session:
            row = await _row(session, validate_channel_name(name))
            await _enable(session, row, enabled)
            await session.flush()
            return _view(row)


async def remove_channel(
    manager: Manager, name: str, *, actor: str = "system", as_role: UserRole = UserRole.ADMIN
) -> None:
    """Forget a channel and the messages that waited for it."""
    async with audit.audited(manager, actor=actor, action="notify.remove", target=name):
        require(as_role, UserRole.ADMIN, "removing a notification channel")
        async with manager.db.session() as session:
            row = await _row(session, validate_channel_name(name))
            await session.execute(delete(OutboxRow).where(OutboxRow.channel_id == row.id))
            await session.delete(row)


async def test_channel(
    manager: Manager, name: str, *, actor: str = "system", as_role: UserRole = UserRole.ADMIN
) -> ChannelView:
    """Send a test message through the channel now, whether enabled or not;
    DeliveryFailed says why it did not arrive.  The channel's state stays as it is."""
    async with audit.audited(manager, actor=actor, action="notify.test", target=name):
        require(as_role, UserRole.ADMIN, "testing a notification channel")
        view_ = await get_channel(manager, name)
        async with manager.db.session() as session:
            row = await _row(session, view_.name)
            ciphertext = row.ciphertext
        now = utcnow()
        notice = Notice(
            event="test",
            cluster=view_.cluster or "every-cluster",
            component="notify",
            key=f"test:{view_.name}",
            severity="info",
            message=f"a test of channel {view_.name}, sent by {actor}",
            opened_at=now,
            link=alerts_link(manager.settings.notify_link_base, view_.cluster or "")
            if view_.cluster
            else "",
        )
        await deliver(
            manager,
            name=view_.name,
            kind=view_.kind,
            config=view_.config,
            ciphertext=ciphertext,
            notice=notice,
        )
        return view_
