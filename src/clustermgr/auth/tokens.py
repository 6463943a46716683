"""API tokens: named per user, shown once, stored as their SHA-256.

A token reads ``cm_`` followed by 43 random URL-safe characters; the prefix
lets secret scanners and people recognise it.  ``last_used`` is written at
most once per :data:`TOUCH_INTERVAL`, so busy clients do not write on every call.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import digest, get_user, user_view
from clustermgr.auth.models import ApiToken, User
from clustermgr.auth.sessions import TOUCH_INTERVAL
from clustermgr.auth.views import ApiTokenView, UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import AlreadyExists, InvalidInput, NotFound

PREFIX = "cm_"
TOKEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _validate_name(name: str) -> str:
    if not TOKEN_NAME.match(name):
        raise InvalidInput(
            f"invalid token name {name!r}",
            hint="1 to 64 characters: letters, digits, '_', '.' and '-' (e.g. ci-deploy)",
        )
    return name


async def _find(session: AsyncSession, user: User, name: str) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name)
    return (await session.scalars(query)).one_or_none()


async def create_api_token(
    manager: Manager, username: str, name: str, *, actor: str | None = None
) -> str:
    """A new token for ``username``: returned once, never retrievable again."""
    name = _validate_name(name)
    token = PREFIX + secrets.token_urlsafe(32)
    async with manager.db.session() as session:
        user = await get_user(session, username)
        if await _find(session, user, name) is not None:
            raise AlreadyExists(
                f"user {user.username!r} already has a token named {name!r}",
                hint="revoke it first, or choose another name",
            )
        session.add(ApiToken(user_id=user.id, name=name, token_hash=digest(token)))
        add_entry(
            session,
            actor=actor or user.username,
            action="token.create",
            target=user.username,
            detail={"name": name},
        )
    return token


async def user_for_token(manager: Manager, token: str) -> UserView | None:
    """The user a token belongs to; None for an unknown or revoked token."""
    now = utcnow()
    query = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token))
    )
    async with manager.db.session() as session:
        found = (await session.execute(query)).one_or_none()
        if found is None:
            return None
        row, user = found
        if row.last_used is None or now - row.last_used >= TOUCH_INTERVAL:
            row.last_used = now
        return user_view(user)


async def revoke_api_token(
    manager: Manager, username: str, name: str, *, actor: str | None = None
) -> None:
    async with manager.db.session() as session:
        user = await get_user(session, username)
        row = await _find(session, user, name)
        if row is None:
            raise NotFound(f"user {user.username!r} has no token named {name!r}")
        await session.delete(row)
        add_entry(
            session,
            actor=actor or user.username,
            action="token.revoke",
            target=user.username,
            detail={"name": name},
        )


async def list_api_tokens(manager: Manager, username: str) -> list[ApiTokenView]:
    """A user's tokens by name (the tokens themselves are not kept)."""
    async with manager.db.session() as session:
        user = await get_user(session, username)
        rows = await session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.name)
        )
        return [
            ApiTokenView(
                name=row.name,
                created_at=row.created_at,
                last_used=row.last_used if row.last_used else None,
            )
            for row in rows
        ]
