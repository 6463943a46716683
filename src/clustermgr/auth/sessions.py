"""Browser sessions, kept server side.

The cookie carries a random token; the database keeps only its SHA-256, so a
copy of the database cannot be replayed as a cookie.  A session lives
:data:`SESSION_LIFETIME` after its last use (sliding), and never longer than
``session_max_hours`` (setting ``CLUSTERMGR_SESSION_MAX_HOURS``, default 24)
after sign-in, however busy; the renewal is written at most once per
:data:`TOUCH_INTERVAL` to keep page views from writing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import digest, get_user, user_view
from clustermgr.auth.models import User, WebSession
from clustermgr.auth.views import SessionView, UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.db.readcache import KeptByKey

SESSION_LIFETIME = timedelta(hours=12)
TOUCH_INTERVAL = timedelta(minutes=1)
#: Sessions a process keeps between two changes of the database.
KEPT_SESSIONS = 1024


def _end(manager: Manager, started: datetime) -> datetime:
    """When a session started at ``started`` ends, however busy."""
    return started + timedelta(hours=manager.settings.session_max_hours)


def _expiry(manager: Manager, started: datetime, now: datetime) -> datetime:
    """When a session started at ``started`` and used at ``now`` ends."""
    return min(now + SESSION_LIFETIME, _end(manager, started))


async def start_session(manager: Manager, user: UserView) -> tuple[str, SessionView]:
    """A new session: the cookie's token (shown only here) and its view."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    view = SessionView(user, secrets.token_urlsafe(32), _expiry(manager, now, now))
    async with manager.db.session() as session:
        await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                id=digest(token),
                user_id=user.id,
                csrf_token=view.csrf_token,
                expires_at=view.expires_at,
                last_seen=now,
                created_at=now,
            )
        )
    return token, view


@dataclass(frozen=True)
class _Live:
    """A session as last read: enough to answer again without the database."""

    view: SessionView
    ends_at: datetime
    last_seen: datetime


def _kept(manager: Manager) -> KeptByKey[_Live]:
    return manager.db.reads.keyed("sessions", KEPT_SESSIONS)


async def session_for(manager: Manager, token: str) -> SessionView | None:
    """The live session of a cookie's token; None when unknown or expired.

    Kept in this process until the database changes (any commit: a sign-out, a role
    change, a password change), while it neither expires nor needs its renewal
    written; so most page views read nothing."""
    now = utcnow()
    key = digest(token)
    kept = _kept(manager)
    live = kept.get(key)
    if live is not None and live.ends_at > now and now - live.last_seen < TOUCH_INTERVAL:
        return live.view
    at = kept.mark()
    query = (
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == key)
    )
    async with manager.db.session() as session:
        found = (await session.execute(query)).one_or_none()
        if found is None:
            return None
        row, user = found
        if min(row.expires_at, _end(manager, row.created_at)) <= now:
            await session.delete(row)
            return None
        touched = now - row.last_seen >= TOUCH_INTERVAL
        if touched:
            row.last_seen = now
            row.expires_at = _expiry(manager, row.created_at, now)
        view = SessionView(user_view(user), row.csrf_token, row.expires_at)
        ends_at = min(row.expires_at, _end(manager, row.created_at))
        last_seen = row.last_seen
    if not touched:  # a renewal is a commit: what was read before it is stale
        kept.keep(key, at, _Live(view, ends_at, last_seen))
    return view


async def end_session(manager: Manager, token: str) -> None:
    """Log out: forget the session (harmless when it is unknown). Audited as ``logout``."""
    query = (
        select(WebSession, User.username)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == digest(token))
    )
    async with manager.db.session() as session:
        found = (await session.execute(query)).one_or_none()
        if found is None:
            return
        row, username = found
        await session.delete(row)
        add_entry(session, actor=username, action="logout", target=username)


async def end_all_sessions(manager: Manager, username: str, *, actor: str | None = None) -> int:
    """Log a user out everywhere; how many sessions were ended."""
    async with manager.db.session() as session:
        user = await get_user(session, username)
        ended = await drop_sessions(session, user.id)
        add_entry(
            session,
            actor=actor or user.username,
            action="logout.all",
            target=user.username,
            detail={"sessions_ended": ended},
        )
    return ended


async def drop_sessions(session: AsyncSession, user_id: int) -> int:
    """Delete every session of a user in the caller's transaction; how many there were."""
    rows = list(await session.scalars(select(WebSession).where(WebSession.user_id == user_id)))
    for row in rows:
        await session.delete(row)
    return len(rows)
