"""Helpers shared by the authentication modules: names, digests, rows to views."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.auth.models import User
from clustermgr.auth.roles import UserRole
from clustermgr.auth.views import UserView
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.inventory.models import Credential

USERNAME = re.compile(r"^[a-z0-9_.-]{1,64}$")
#: Column width of user names and client addresses in login_failures.
NAME_LEN = 64


def canonical(username: str) -> str:
    """The form user names are stored and compared in: stripped, lower case."""
    return username.strip().lower()


def validate_username(username: str) -> str:
    """A new user name, lower-cased: 1-64 of ``a-z 0-9 _ . -``."""
    name = canonical(username)
    if not USERNAME.match(name):
        raise InvalidInput(
            f"invalid user name {username!r}",
            hint="1 to 64 characters: lower-case letters, digits, '_', '.' and '-'",
        )
    return name


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_view(row: User, *, role: UserRole | None = None) -> UserView:
    """The user as front ends see it; ``role`` lowers its role (a token's)."""
    return UserView(
        id=row.id,
        username=row.username,
        totp_enabled=row.totp_ciphertext is not None,
        created_at=row.created_at,
        role=role or UserRole(row.role),
    )


async def find_user(session: AsyncSession, username: str) -> User | None:
    query = select(User).where(User.username == canonical(username)[:NAME_LEN])
    return (await session.scalars(query)).one_or_none()


async def get_user(session: AsyncSession, username: str) -> User:
    row = await find_user(session, username)
    if row is None:
        raise NotFound(f"no user named {username!r}", hint="see `clustermgr admin list`")
    return row


async def vault_is_empty(session: AsyncSession) -> bool:
    """True when nothing was ever sealed, so the vault may create its key."""
    credentials = await session.scalar(select(func.count()).select_from(Credential))
    enrolled = await session.scalar(
        select(func.count()).select_from(User).where(User.totp_ciphertext.is_not(None))
    )
    return not credentials and not enrolled
