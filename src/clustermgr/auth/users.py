"""Users: create, list, give a role, set or change a password.

``actor`` (keyword, optional) names who did it in the audit trail: the logged-in
user in the web app, ``cli:<os user>`` on the command line.  Without it the
actor is ``system`` for a new user and the user itself for a password change.

Managing users is for admins: ``as_role`` is the caller's role (the CLI acts as
admin).  A user changes its own password in :mod:`clustermgr.auth.account`.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import find_user, get_user, user_view, validate_username
from clustermgr.auth.models import User
from clustermgr.auth.passwords import check_strength, hash_password
from clustermgr.auth.roles import UserRole, require
from clustermgr.auth.sessions import drop_sessions
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.errors import AlreadyExists, InvalidInput
from clustermgr.redact import Secret


def check_new_password(username: str, password: Secret) -> None:
    """The strength rule, plus: the password does not contain the user name."""
    check_strength(password)
    if len(username) >= 3 and username in password.reveal().lower():
        raise InvalidInput("the password must not contain the user name")


async def prepare_user(username: str, password: Secret) -> tuple[str, str]:
    """Validate a new user's name and password; return the name and the password hash."""
    name = validate_username(username)
    check_new_password(name, password)
    return name, await asyncio.to_thread(hash_password, password)


async def insert_user(session: AsyncSession, name: str, password_hash: str, role: UserRole) -> User:
    if await find_user(session, name) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    row = User(username=name, password_hash=password_hash, role=role.value)
    session.add(row)
    await session.flush()
    return row


async def create_user(
    manager: Manager,
    username: str,
    password: Secret,
    *,
    role: UserRole = UserRole.VIEWER,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> UserView:
    """A new user with ``role`` (least power unless told otherwise)."""
    require(as_role, UserRole.ADMIN, "creating a user")
    name, password_hash = await prepare_user(username, password)
    async with manager.db.session() as session:
        row = await insert_user(session, name, password_hash, role)
        add_entry(
            session, actor=actor, action="user.create", target=name, detail={"role": role.value}
        )
        return user_view(row)


async def set_role(
    manager: Manager,
    username: str,
    role: UserRole,
    *,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> UserView:
    """Give a user another role; its tokens can do no more than the new role allows."""
    require(as_role, UserRole.ADMIN, "changing a role")
    async with manager.db.session() as session:
        row = await get_user(session, username)
        before = row.role
        row.role = role.value
        add_entry(
            session,
            actor=actor,
            action="user.role",
            target=row.username,
            detail={"from": before, "to": role.value},
        )
        return user_view(row)


async def list_users(manager: Manager) -> list[UserView]:
    async with manager.db.session() as session:
        rows = await session.scalars(select(User).order_by(User.username))
        return [user_view(row) for row in rows]


async def user_count(manager: Manager) -> int:
    async with manager.db.session() as session:
        return await session.scalar(select(func.count()).select_from(User)) or 0


async def set_password(
    manager: Manager,
    username: str,
    password: Secret,
    *,
    actor: str | None = None,
    as_role: UserRole = UserRole.ADMIN,
) -> None:
    """Set a user's password (an admin's reset) and end every web session of that user.

    Ending the sessions logs out whoever may have learnt the old password; the
    web app starts a fresh session for the browser that made the change.
    API tokens stay valid: they are revoked by name.
    """
    require(as_role, UserRole.ADMIN, "setting another user's password")

    await store_password(manager, username, password, actor=actor)


async def store_password(
    manager: Manager, username: str, password: Secret, *, actor: str | None
) -> None:
    """Check and store a new password, unchecked who asks: callers decide who may."""
    async with manager.db.session() as session:
        name = (await get_user(session, username)).username
    check_new_password(name, password)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with manager.db.session() as session:
        row = await get_user(session, name)
        row.password_hash = password_hash
        ended = await drop_sessions(session, row.id)
        add_entry(
            session,
            actor=actor or name,
            action="user.password",
            target=name,
            detail={"sessions_ended": ended},
        )
