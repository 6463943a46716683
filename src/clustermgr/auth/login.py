"""Logging in: password, TOTP code, and throttling of guessers.

Throttling counts failures in ``login_failures`` over the last
:data:`FAILURE_WINDOW`, separately for the user name and for the client
address; :data:`MAX_FAILURES` in either refuses the login before the password
is even looked at, so a throttled guesser learns nothing.  Throttled attempts
are not counted themselves: the refusal ends :data:`FAILURE_WINDOW` after the
failure that started it, whatever the guesser keeps sending.

An attempt is recorded as a failure *before* the password is checked and the
record is removed when the password proves right: parallel guesses cannot slip
through while a slow argon2 check is running.

On success the failures of that user name *from that client* are cleared (a
user's own typos are forgiven); failures from other clients stay, so an
attacker's count against the account does not reset when its owner logs in.

Unknown user names get the same answer, after the same work (a check against a
dummy hash), as wrong passwords.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import NAME_LEN, canonical, find_user, user_view
from clustermgr.auth.models import LoginFailure, User
from clustermgr.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from clustermgr.auth.totp import accept_login_code
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import LoginFailed, LoginThrottled, TotpRequired
from clustermgr.redact import Secret

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class _Attempt:
    name: str
    client: str
    failure_id: int
    user_id: int | None
    password_hash: str


async def authenticate(
    manager: Manager,
    username: str,
    password: Secret,
    *,
    totp_code: str | None,
    client: str,
) -> UserView:
    """The user, when the password (and TOTP code, if enrolled) are right.

    Raises :class:`LoginThrottled`, :class:`LoginFailed` or :class:`TotpRequired`.
    """
    attempt = await _begin(manager, canonical(username)[:NAME_LEN], client[:NAME_LEN])
    ok = await asyncio.to_thread(verify_password, attempt.password_hash, password)
    if not ok or attempt.user_id is None:
        await _failed(manager, attempt, "wrong password" if attempt.user_id else "unknown user")
    fresh_hash = None
    if needs_rehash(attempt.password_hash):
        fresh_hash = await asyncio.to_thread(hash_password, password)
    async with manager.db.session() as session:
        row = await session.get(User, attempt.user_id)
        problem = _second_factor(manager, row, totp_code)
        if problem is None and row is not None:
            if fresh_hash:
                row.password_hash = fresh_hash
            await _forget_attempt(session, attempt, clear=True)
            _audit(session, attempt, "ok")
            return user_view(row)
        if problem == _TOTP_REQUIRED:
            await _forget_attempt(session, attempt)
    # Raised outside the transaction, so what it wrote is committed.
    if problem == _TOTP_REQUIRED:
        raise TotpRequired()
    await _failed(manager, attempt, problem or "unknown user")


_TOTP_REQUIRED = "totp required"


def _second_factor(manager: Manager, row: User | None, totp_code: str | None) -> str | None:
    """None when the user may log in; otherwise why not."""
    if row is None:  # deleted since the password check
        return "unknown user"
    if row.totp_ciphertext is None:
        return None
    if not totp_code:
        return _TOTP_REQUIRED
    return None if accept_login_code(manager.vault, row, totp_code) else "wrong TOTP code"


async def _begin(manager: Manager, name: str, client: str) -> _Attempt:
    """Refuse a throttled attempt, or record it as a failure until it proves right."""
    now = utcnow()
    async with manager.db.session() as session:
        await session.execute(delete(LoginFailure).where(LoginFailure.at < now - FAILURE_WINDOW))
        retry_after = max(
            await _retry_after(session, LoginFailure.username == name, now),
            await _retry_after(session, LoginFailure.client == client, now),
        )
        if retry_after:
            _audit(
                session,
                _Attempt(name, client, 0, None, ""),
                "refused",
                reason="throttled",
                retry_after=retry_after,
            )
        else:
            failure = LoginFailure(username=name, client=client, at=now)
            session.add(failure)
            await session.flush()
            row = await find_user(session, name)
    if retry_after:
        raise LoginThrottled(retry_after)
    if row is None:
        return _Attempt(name, client, failure.id, None, dummy_hash())
    return _Attempt(name, client, failure.id, row.id, row.password_hash)


async def _retry_after(session: AsyncSession, where: ColumnElement[bool], now: datetime) -> int:
    """Seconds until fewer than MAX_FAILURES failures matching ``where`` are recent; 0 if so."""
    recent = LoginFailure.at >= now - FAILURE_WINDOW
    count = await session.scalar(
        select(func.count()).select_from(LoginFailure).where(where, recent)
    )
    if (count or 0) < MAX_FAILURES:
        return 0
    # Once the MAX_FAILURES-th most recent failure ages out, fewer than that remain.
    query = (
        select(LoginFailure.at)
        .where(where, recent)
        .order_by(LoginFailure.at.desc())
        .offset(MAX_FAILURES - 1)
        .limit(1)
    )
    oldest_counted = await session.scalar(query) or now
    return max(1, math.ceil((oldest_counted + FAILURE_WINDOW - now).total_seconds()))


async def _forget_attempt(session: AsyncSession, attempt: _Attempt, *, clear: bool = False) -> None:
    """Drop this attempt's failure record; ``clear``: and the user's from this client."""
    query = delete(LoginFailure).where(LoginFailure.id == attempt.failure_id)
    if clear:
        query = delete(LoginFailure).where(
            LoginFailure.username == attempt.name, LoginFailure.client == attempt.client
        )
    await session.execute(query)


async def _failed(manager: Manager, attempt: _Attempt, reason: str) -> NoReturn:
    """Keep the failure record, audit it, and refuse."""
    async with manager.db.session() as session:
        _audit(session, attempt, "failed", reason=reason)
    raise LoginFailed()


def _audit(session: AsyncSession, attempt: _Attempt, result: str, **detail: object) -> None:
    add_entry(
        session,
        actor=attempt.name,
        action="login",
        target=attempt.name,
        result=result,
        detail={"client": attempt.client, **detail},
    )
