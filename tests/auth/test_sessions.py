"""Web sessions, API tokens and first-start setup; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from authdata import PASSWORD, database_bytes, login, make_user, raw_rows
from clustermgr.audit import service as audit
from clustermgr.auth import service as auth
from clustermgr.auth import setup
from clustermgr.auth.models import ApiToken, WebSession
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import AlreadyExists, InvalidInput, NotFound, SetupClosed
from clustermgr.redact import Secret


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def set_session(manager: Manager, token: str, **values: object) -> None:
    async with manager.db.session() as session:
        await session.execute(
            update(WebSession).where(WebSession.id == sha256(token)).values(**values)
        )


# --- sessions -------------------------------------------------------------


async def test_session_start_lookup_end(manager: Manager) -> None:
    await make_user(manager)
    user = await login(manager)
    token, view = await auth.start_session(manager, user)
    assert len(token) >= 43 and view.user == user
    assert view.expires_at - utcnow() > auth.SESSION_LIFETIME - timedelta(minutes=1)
    found = await auth.session_for(manager, token)
    assert found is not None
    assert (found.user, found.csrf_token) == (user, view.csrf_token)
    assert await auth.session_for(manager, token + "x") is None
    assert await auth.session_for(manager, "") is None

    await auth.end_session(manager, token)
    assert await auth.session_for(manager, token) is None
    await auth.end_session(manager, token)  # harmless twice
    logouts = [e for e in await audit.entries(manager) if e.action == "logout"]
    assert [(e.actor, e.target) for e in logouts] == [("alice", "alice")]


async def test_expired_session_is_refused_and_removed(manager: Manager) -> None:
    token, _ = await auth.start_session(manager, await make_user(manager))
    await set_session(manager, token, expires_at=utcnow() - timedelta(seconds=1))
    assert await auth.session_for(manager, token) is None
    async with manager.db.session() as session:
        assert list(await session.scalars(select(WebSession))) == []


async def test_session_slides_at_most_once_a_minute(manager: Manager) -> None:
    token, _ = await auth.start_session(manager, await make_user(manager))
    soon = utcnow() + timedelta(hours=1)
    await set_session(manager, token, expires_at=soon, last_seen=utcnow() - timedelta(seconds=10))
    found = await auth.session_for(manager, token)
    assert found is not None and abs(found.expires_at - soon) < timedelta(seconds=1), "no write"

    await set_session(manager, token, last_seen=utcnow() - timedelta(minutes=2))
    found = await auth.session_for(manager, token)
    assert found is not None
    assert found.expires_at - utcnow() > auth.SESSION_LIFETIME - timedelta(minutes=1)
    again = await auth.session_for(manager, token)
    assert again is not None and again.expires_at == found.expires_at


async def test_end_all_sessions_and_password_change(manager: Manager) -> None:
    user = await make_user(manager)
    tokens = [(await auth.start_session(manager, user))[0] for _ in range(3)]
    assert await auth.end_all_sessions(manager, "alice") == 3
    assert [await auth.session_for(manager, t) for t in tokens] == [None] * 3
    assert await auth.end_all_sessions(manager, "alice") == 0

    token, _ = await auth.start_session(manager, user)
    await auth.set_password(manager, "alice", Secret("Another horse 43"))
    assert await auth.session_for(manager, token) is None, "a new password logs out everywhere"
    with pytest.raises(NotFound):
        await auth.end_all_sessions(manager, "nobody")


async def test_only_the_digest_of_a_session_token_is_stored(manager: Manager) -> None:
    token, view = await auth.start_session(manager, await make_user(manager))
    rows = await raw_rows(manager, "web_sessions")
    assert sha256(token) in rows and token not in rows
    assert token.encode() not in database_bytes(manager)
    assert view.csrf_token in rows


# --- API tokens -----------------------------------------------------------


async def test_api_token_create_lookup_revoke(manager: Manager) -> None:
    user = await make_user(manager)
    token = await auth.create_api_token(manager, "alice", "ci-deploy")
    assert token.startswith("cm_") and len(token) == 3 + 43
    assert await auth.user_for_token(manager, token) == user
    assert await auth.user_for_token(manager, token[:-1]) is None
    (listed,) = await auth.list_api_tokens(manager, "alice")
    assert listed.name == "ci-deploy" and listed.last_used is not None

    with pytest.raises(AlreadyExists, match="already has a token named 'ci-deploy'"):
        await auth.create_api_token(manager, "alice", "ci-deploy")
    with pytest.raises(InvalidInput, match="invalid token name"):
        await auth.create_api_token(manager, "alice", "no spaces")
    with pytest.raises(NotFound):
        await auth.create_api_token(manager, "nobody", "x")

    await auth.revoke_api_token(manager, "alice", "ci-deploy")
    assert await auth.user_for_token(manager, token) is None
    with pytest.raises(NotFound, match="no token named 'ci-deploy'"):
        await auth.revoke_api_token(manager, "alice", "ci-deploy")
    actions = [(e.action, e.detail.get("name")) for e in await audit.entries(manager)]
    assert ("token.create", "ci-deploy") in actions and ("token.revoke", "ci-deploy") in actions


async def test_only_the_digest_of_an_api_token_is_stored(manager: Manager) -> None:
    await make_user(manager)
    token = await auth.create_api_token(manager, "alice", "ci")
    rows = await raw_rows(manager, "api_tokens") + await raw_rows(manager, "audit")
    assert sha256(token) in rows and token not in rows
    assert token.encode() not in database_bytes(manager)


async def test_api_token_last_used_is_written_at_most_once_a_minute(manager: Manager) -> None:
    await make_user(manager)
    token = await auth.create_api_token(manager, "alice", "ci")
    await auth.user_for_token(manager, token)
    earlier = utcnow() - timedelta(seconds=20)
    async with manager.db.session() as session:
        await session.execute(update(ApiToken).values(last_used=earlier))
    await auth.user_for_token(manager, token)
    (listed,) = await auth.list_api_tokens(manager, "alice")
    assert listed.last_used is not None and abs(listed.last_used - earlier) < timedelta(seconds=1)


# --- first start ------------------------------------------------------------


async def test_setup_token_one_time_flow(manager: Manager) -> None:
    token = await auth.setup_token(manager)
    assert token is not None
    assert await auth.setup_token(manager) == token, "same token while this process knows it"
    path = manager.settings.data_dir / "setup-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == sha256(token)

    with pytest.raises(SetupClosed):
        await auth.complete_setup(manager, token + "x", "admin", PASSWORD)
    admin = await auth.complete_setup(manager, token, "Admin", PASSWORD)
    assert admin.username == "admin" and admin.role is auth.UserRole.ADMIN
    assert not path.exists()
    assert await auth.setup_token(manager) is None
    with pytest.raises(SetupClosed):
        await auth.complete_setup(manager, token, "second", PASSWORD)
    assert [u.username for u in await auth.list_users(manager)] == ["admin"]
    (created,) = [e for e in await audit.entries(manager) if e.action == "user.create"]
    assert (created.actor, created.target) == ("system", "admin")


async def test_unknown_setup_token_file_is_replaced(manager: Manager) -> None:
    first = await auth.setup_token(manager)
    setup._issued.clear()  # as after a restart
    second = await auth.setup_token(manager)
    assert second is not None and second != first
    with pytest.raises(SetupClosed):
        await auth.complete_setup(manager, first or "", "admin", PASSWORD)
    with pytest.raises(InvalidInput):  # a weak password leaves the token usable
        await auth.complete_setup(manager, second, "admin", Secret("weak"))
    await auth.complete_setup(manager, second, "admin", PASSWORD)


async def test_setup_closes_when_a_user_is_created_otherwise(manager: Manager) -> None:
    token = await auth.setup_token(manager)
    assert token is not None
    await make_user(manager)
    with pytest.raises(SetupClosed):
        await auth.complete_setup(manager, token, "admin", PASSWORD)
    assert await auth.setup_token(manager) is None
    assert not (manager.settings.data_dir / "setup-token").exists()
