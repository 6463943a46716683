"""Roles of users and tokens, token expiry, asking for the password again, and the
absolute lifetime of a session."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from authdata import PASSWORD, WRONG, make_user
from clustermgr.audit import service as audit
from clustermgr.auth import service as auth
from clustermgr.auth.models import ApiToken, WebSession
from clustermgr.auth.roles import UserRole
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import Forbidden, InvalidInput, LoginFailed, TotpRequired
from clustermgr.redact import Secret

VIEWER, OPERATOR, ADMIN = UserRole.VIEWER, UserRole.OPERATOR, UserRole.ADMIN
NEW = Secret("Another horse 43", label="password")
CLIENT = "192.0.2.20"


def test_roles_are_ordered() -> None:
    assert ADMIN.allows(OPERATOR) and OPERATOR.allows(VIEWER) and ADMIN.allows(ADMIN)
    assert not VIEWER.allows(OPERATOR) and not OPERATOR.allows(ADMIN)
    assert UserRole.parse(" Operator ") is OPERATOR
    with pytest.raises(InvalidInput, match="unknown role 'root'") as refused:
        UserRole.parse("root")
    assert refused.value.hint == "one of: viewer, operator, admin"


async def test_a_new_user_is_a_viewer_unless_told_and_only_admins_manage_users(
    manager: Manager,
) -> None:
    assert (await make_user(manager)).role is VIEWER
    bob = await auth.create_user(manager, "bob", PASSWORD, role=OPERATOR)
    assert bob.role is OPERATOR
    with pytest.raises(Forbidden, match="creating a user needs the admin role"):
        await auth.create_user(manager, "eve", PASSWORD, as_role=OPERATOR)
    with pytest.raises(Forbidden):
        await auth.set_role(manager, "alice", ADMIN, as_role=OPERATOR)
    with pytest.raises(Forbidden):
        await auth.set_password(manager, "alice", NEW, as_role=OPERATOR)
    with pytest.raises(Forbidden):
        await auth.disable_totp(manager, "alice", as_role=VIEWER)
    with pytest.raises(Forbidden):
        await auth.create_api_token(manager, "alice", "x", as_role=OPERATOR)
    assert (await auth.set_role(manager, "alice", ADMIN, actor="cli:root")).role is ADMIN
    entry = (await audit.entries(manager))[0]
    assert (entry.action, entry.detail) == ("user.role", {"from": "viewer", "to": "admin"})


async def test_a_token_acts_with_its_role_at_most_its_owners(manager: Manager) -> None:
    await auth.create_user(manager, "alice", PASSWORD, role=OPERATOR)
    own = await auth.create_api_token(manager, "alice", "own")
    low = await auth.create_api_token(manager, "alice", "low", role=VIEWER)
    with pytest.raises(Forbidden, match="at most what a operator can"):
        await auth.create_api_token(manager, "alice", "high", role=ADMIN)
    assert (await auth.user_for_token(manager, own)).role is OPERATOR  # type: ignore[union-attr]
    assert (await auth.user_for_token(manager, low)).role is VIEWER  # type: ignore[union-attr]

    await auth.set_role(manager, "alice", VIEWER)
    found = await auth.user_for_token(manager, own)
    assert found is not None and found.role is VIEWER, "a demoted owner takes its tokens down"


async def test_a_token_expires(manager: Manager) -> None:
    await make_user(manager)
    token = await auth.create_api_token(manager, "alice", "ci", days=7)
    (listed,) = await auth.list_api_tokens(manager, "alice")
    assert timedelta(days=7) - (listed.expires_at - utcnow()) < timedelta(minutes=1)
    default = await auth.create_api_token(manager, "alice", "default")
    expiry = {t.name: t.expires_at for t in await auth.list_api_tokens(manager, "alice")}
    assert expiry["default"] - utcnow() > timedelta(days=auth.DEFAULT_TOKEN_DAYS - 1)
    for days in (0, -1, auth.MAX_TOKEN_DAYS + 1):
        with pytest.raises(InvalidInput, match="a token lives"):
            await auth.create_api_token(manager, "alice", f"d{days + 9}", days=days)

    async with manager.db.session() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.name == "ci")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await auth.user_for_token(manager, token) is None
    assert await auth.user_for_token(manager, default) is not None


async def test_own_token_password_and_totp_need_the_password_again(manager: Manager) -> None:
    await make_user(manager)
    with pytest.raises(LoginFailed):
        await auth.create_own_token(manager, "alice", "ci", WRONG, totp_code=None, client=CLIENT)
    assert await auth.list_api_tokens(manager, "alice") == []
    token = await auth.create_own_token(
        manager, "alice", "ci", PASSWORD, totp_code=None, client=CLIENT
    )
    assert await auth.user_for_token(manager, token) is not None

    secret, _ = await auth.begin_totp(manager, "alice")
    totp = pyotp.TOTP(secret.reveal())
    await auth.enable_totp(manager, "alice", secret, totp.now())
    with pytest.raises(TotpRequired):
        await auth.disable_own_totp(manager, "alice", PASSWORD, totp_code=None, client=CLIENT)
    with pytest.raises(TotpRequired):
        await auth.change_password(manager, "alice", PASSWORD, NEW, totp_code="", client=CLIENT)
    with pytest.raises(LoginFailed):
        await auth.change_password(manager, "alice", WRONG, NEW, totp_code="1", client=CLIENT)
    code = totp.at(utcnow() + timedelta(seconds=30))
    await auth.disable_own_totp(manager, "alice", PASSWORD, totp_code=code, client=CLIENT)
    assert not (await auth.list_users(manager))[0].totp_enabled

    await auth.change_password(manager, "alice", PASSWORD, NEW, totp_code=None, client=CLIENT)
    assert (await auth.authenticate(manager, "alice", NEW, totp_code=None, client=CLIENT)).id
    with pytest.raises(LoginFailed):
        await auth.authenticate(manager, "alice", PASSWORD, totp_code=None, client=CLIENT)


async def test_a_session_ends_at_its_absolute_lifetime_however_busy(manager: Manager) -> None:
    user = await make_user(manager)
    token, view = await auth.start_session(manager, user)
    limit = timedelta(hours=manager.settings.session_max_hours)
    assert view.expires_at - utcnow() <= min(limit, auth.SESSION_LIFETIME)
    started = utcnow() - limit + timedelta(minutes=5)
    async with manager.db.session() as session:
        await session.execute(
            update(WebSession).values(created_at=started, last_seen=utcnow() - timedelta(hours=1))
        )
    renewed = await auth.session_for(manager, token)
    assert renewed is not None and renewed.expires_at == started + limit, "renewal is capped"
    async with manager.db.session() as session:
        await session.execute(
            update(WebSession).values(
                created_at=started - timedelta(minutes=6), expires_at=utcnow() + timedelta(hours=1)
            )
        )
    assert await auth.session_for(manager, token) is None, "ended, whatever its expiry said"
