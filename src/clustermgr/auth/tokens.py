"""API tokens: named per user, shown once, stored as their SHA-256, with a role and an expiry.

A token reads ``cm_`` followed by 43 random URL-safe characters; the prefix
lets secret scanners and people recognise it.  ``last_used`` is written at
most once per :data:`TOUCH_INTERVAL`, so busy clients do not write on every call.

A token acts with its own role, never more than its owner's: the role is
checked when it is issued, and a request through it gets the lower of the two
(an owner given a lower role later takes its tokens down with it).  It expires
after :data:`DEFAULT_TOKEN_DAYS` unless told otherwise (at most
:data:`MAX_TOKEN_DAYS`).

Admins issue tokens for anyone (:func:`create_api_token`, the CLI); a user
issues its own in :mod:`clustermgr.auth.account`, giving its password again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import digest, get_user, user_view
from clustermgr.auth.models import ApiToken, User
from clustermgr.auth.roles import UserRole, lower, require
from clustermgr.auth.sessions import TOUCH_INTERVAL
from clustermgr.auth.views import ApiTokenView, UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.db.readcache import KeptByKey
from clustermgr.errors import AlreadyExists, Forbidden, InvalidInput, NotFound

PREFIX = "cm_"
TOKEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730
#: Tokens a process keeps between two changes of the database.
KEPT_TOKENS = 1024


def validate_name(name: str) -> str:
    if not TOKEN_NAME.match(name):
        raise InvalidInput(
            f"invalid token name {name!r}",
            hint="1 to 64 characters: letters, digits, '_', '.' and '-' (e.g. ci-deploy)",
        )
    return name


def validate_days(days: int) -> int:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(
            f"a token lives 1 to {MAX_TOKEN_DAYS} days, not {days}",
            hint=f"the default is {DEFAULT_TOKEN_DAYS}; issue a new token before it expires",
        )
    return days


async def _find(session: AsyncSession, user: User, name: str) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name)
    return (await session.scalars(query)).one_or_none()


async def create_api_token(
    manager: Manager,
    username: str,
    name: str,
    *,
    role: UserRole | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
    actor: str | None = None,
    as_role: UserRole = UserRole.ADMIN,
) -> str:
    """A new token for ``username`` (an admin's act): returned once, never retrievable
    again. ``role``: the owner's when not given; never more than the owner's."""
    require(as_role, UserRole.ADMIN, "issuing a token for a user")
    return await issue_token(manager, username, name, role=role, days=days, actor=actor)


async def issue_token(
    manager: Manager,
    username: str,
    name: str,
    *,
    role: UserRole | None,
    days: int,
    actor: str | None,
) -> str:
    """Issue a token, unchecked who asks: callers decide who may."""
    name = validate_name(name)
    days = validate_days(days)
    token = PREFIX + secrets.token_urlsafe(32)
    async with manager.db.session() as session:
        user = await get_user(session, username)
        owner = UserRole(user.role)
        granted = role or owner
        if not owner.allows(granted):
            raise Forbidden(
                f"a token of {user.username!r} can do at most what a {owner.value} can, "
                f"not what a {granted.value} can",
                hint=f"choose a role up to {owner.value}",
            )
        if await _find(session, user, name) is not None:
            raise AlreadyExists(
                f"user {user.username!r} already has a token named {name!r}",
                hint="revoke it first, or choose another name",
            )
        expires_at = utcnow() + timedelta(days=days)
        session.add(
            ApiToken(
                user_id=user.id,
                name=name,
                token_hash=digest(token),
                role=granted.value,
                expires_at=expires_at,
            )
        )
        add_entry(
            session,
            actor=actor or user.username,
            action="token.create",
            target=user.username,
            detail={"name": name, "role": granted.value, "expires_at": expires_at.isoformat()},
        )
    return token


@dataclass(frozen=True)
class _Live:
    """A token as last read: enough to answer again without the database."""

    user: UserView
    expires_at: datetime
    last_used: datetime


async def user_for_token(manager: Manager, token: str) -> UserView | None:
    """The user a token belongs to, with the token's role (at most the user's);
    None for an unknown, revoked or expired token.

    Kept in this process until the database changes (a revocation, a role change:
    any commit), while it neither expires nor needs its use written."""
    now = utcnow()
    key = digest(token)
    kept: KeptByKey[_Live] = manager.db.reads.keyed("api-tokens", KEPT_TOKENS)
    live = kept.get(key)
    if live is not None and live.expires_at > now and now - live.last_used < TOUCH_INTERVAL:
        return live.user
    at = kept.mark()
    query = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == key)
    )
    async with manager.db.session() as session:
        found = (await session.execute(query)).one_or_none()
        if found is None:
            return None
        row, user = found
        if row.expires_at <= now:
            return None
        touched = row.last_used is None or now - row.last_used >= TOUCH_INTERVAL
        if touched:
            row.last_used = now
        view = user_view(user, role=lower(UserRole(row.role), UserRole(user.role)))
        last_used = row.last_used or now
        expires_at = row.expires_at
    if not touched:  # writing the use is a commit: what was read before it is stale
        kept.keep(key, at, _Live(view, expires_at, last_used))
    return view


async def revoke_api_token(
    manager: Manager,
    username: str,
    name: str,
    *,
    actor: str | None = None,
    as_role: UserRole = UserRole.ADMIN,
) -> None:
    """Revoke a token: its owner (``actor`` is ``username``) or an admin may."""
    if actor != username:
        require(as_role, UserRole.ADMIN, "revoking another user's token")
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
                role=UserRole(row.role),
                expires_at=row.expires_at,
            )
            for row in rows
        ]
