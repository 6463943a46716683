"""Logging in: password, TOTP code, and throttling of guessers.

Throttling slows guessing down instead of locking anyone out.  Failures are
kept in ``login_failures`` for :data:`FAILURE_WINDOW`, counted separately for
the user name and for the client address.  The first :data:`FREE_FAILURES` of
either cost nothing; after that every further attempt must wait
``2**k`` seconds after the latest failure (``k`` = failures beyond the free
ones), at most :data:`MAX_DELAY`.  An attempt that comes too early is refused
before the password is even looked at, so a throttled guesser learns nothing,
and it is not counted itself.

An address that a user signed in from before (kept in
``login_known_clients`` for :data:`KNOWN_CLIENT_AGE`) is not held back by the
failures against that user name from elsewhere: a guesser cannot keep the
owner, the only administrator included, out.  The delay by address still
applies to it.

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import NAME_LEN, canonical, find_user, user_view
from clustermgr.auth.models import KnownClient, LoginFailure, User
from clustermgr.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from clustermgr.auth.totp import accept_login_code
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import LoginFailed, LoginThrottled, TotpRequired
from clustermgr.redact import Secret

#: Failures (per user name, per address) that cost no delay.
FREE_FAILURES = 5
#: The longest wait after a failure.
MAX_DELAY = timedelta(minutes=15)
#: How long a failure counts.
FAILURE_WINDOW = timedelta(hours=1)
#: How long an address a user signed in from stays known without a new sign-in.
KNOWN_CLIENT_AGE = timedelta(days=90)


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
            await _remember_client(session, row.id, attempt.client)
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
        row = await find_user(session, name)
        known = row is not None and await _known(session, row.id, client, now)
        waits = [await _retry_after(session, LoginFailure.client == client, now)]
        if not known:
            waits.append(await _retry_after(session, LoginFailure.username == name, now))
        retry_after = max(waits)
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
    if retry_after:
        raise LoginThrottled(retry_after)
    if row is None:
        return _Attempt(name, client, failure.id, None, dummy_hash())
    return _Attempt(name, client, failure.id, row.id, row.password_hash)


def delay_after(failures: int) -> timedelta:
    """How long to wait after the latest of ``failures`` recent failures."""
    beyond = failures - FREE_FAILURES
    if beyond < 0:
        return timedelta(0)
    cap = MAX_DELAY.total_seconds()
    # Past 2**32 s the cap holds anyway; no need to compute ever larger powers.
    return timedelta(seconds=cap if beyond >= 32 else min(cap, 2**beyond))


async def _retry_after(session: AsyncSession, where: ColumnElement[bool], now: datetime) -> int:
    """Seconds until the next attempt matching ``where`` may be tried; 0 if now."""
    recent = LoginFailure.at >= now - FAILURE_WINDOW
    count, latest = (
        await session.execute(select(func.count(), func.max(LoginFailure.at)).where(where, recent))
    ).one()
    if not count:
        return 0
    wait = (latest + delay_after(count) - now).total_seconds()
    return max(0, math.ceil(wait))


async def _known(session: AsyncSession, user_id: int, client: str, now: datetime) -> bool:
    """Whether the user signed in from this address within KNOWN_CLIENT_AGE."""
    found = await session.get(KnownClient, (user_id, client))
    return found is not None and found.last_success >= now - KNOWN_CLIENT_AGE


async def _remember_client(session: AsyncSession, user_id: int, client: str) -> None:
    """Keep the address the user just signed in from; forget long unused ones."""
    now = utcnow()
    await session.execute(
        delete(KnownClient).where(
            KnownClient.user_id == user_id, KnownClient.last_success < now - KNOWN_CLIENT_AGE
        )
    )
    found = await session.get(KnownClient, (user_id, client))
    if found is not None:
        found.last_success = now
        return
    try:
        async with session.begin_nested():
            session.add(KnownClient(user_id=user_id, client=client, last_success=now))
    except IntegrityError:
        pass  # a parallel sign-in from the same address added it first


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
