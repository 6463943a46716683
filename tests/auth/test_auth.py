"""Users, passwords, logins and their throttling, TOTP; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, text, update

from authdata import (
    CLIENT,
    PASSWORD,
    PLAIN_PASSWORD,
    WRONG,
    database_bytes,
    failures,
    login,
    make_user,
    other_code,
    raw_rows,
)
from clustermgr.audit import service as audit
from clustermgr.auth import service as auth
from clustermgr.auth.models import LoginFailure, User
from clustermgr.auth.passwords import check_strength, hash_password, verify_password
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import (
    AlreadyExists,
    ClustermgrError,
    InvalidInput,
    LoginFailed,
    LoginThrottled,
    NotFound,
    TotpRequired,
)
from clustermgr.redact import Secret

# --- passwords ------------------------------------------------------------


def test_hash_and_verify() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PLAIN_PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, WRONG)
    assert not verify_password("not a hash", PASSWORD)
    assert hash_password(PASSWORD) != hashed, "salted"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh0rt pass", "too short"),
        ("alllowercaseletters", "one kind of character"),
        ("123456789012", "one kind of character"),
        ("x" * 1025 + "1", "too long"),
        ("lower and spaces", None),
        ("abcdefghijk1", None),
        ("Passphrasewords", None),
    ],
)
def test_strength(password: str, problem: str | None) -> None:
    if problem is None:
        check_strength(Secret(password))
        return
    with pytest.raises(InvalidInput, match=problem) as caught:
        check_strength(Secret(password))
    assert password not in str(caught.value) + str(caught.value.hint)


# --- users ----------------------------------------------------------------


async def test_create_and_list_users(manager: Manager) -> None:
    assert await auth.user_count(manager) == 0
    bob = await auth.create_user(manager, "  Bob.Smith ", PASSWORD)
    alice = await make_user(manager)
    assert (bob.username, bob.totp_enabled) == ("bob.smith", False)
    assert bob.created_at.tzinfo is not None
    assert await auth.list_users(manager) == [alice, bob]
    assert await auth.user_count(manager) == 2
    assert alice.as_dict()["username"] == "alice"
    with pytest.raises(AlreadyExists, match="user 'alice' already exists"):
        await auth.create_user(manager, "ALICE", PASSWORD)


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "élodie", "al/ice", "root;"])
async def test_invalid_user_names_are_refused(manager: Manager, name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid user name"):
        await auth.create_user(manager, name, PASSWORD)
    assert await auth.user_count(manager) == 0


async def test_weak_password_or_one_containing_the_name_is_refused(manager: Manager) -> None:
    with pytest.raises(InvalidInput, match="too short"):
        await auth.create_user(manager, "alice", Secret("Short 1"))
    with pytest.raises(InvalidInput, match="must not contain the user name"):
        await auth.create_user(manager, "alice", Secret("Alice-password-1"))
    assert await auth.user_count(manager) == 0


async def test_set_password(manager: Manager) -> None:
    await make_user(manager)
    new = Secret("Another horse 43", label="password")
    await auth.set_password(manager, "alice", new)
    with pytest.raises(LoginFailed):
        await login(manager)
    assert (await login(manager, new)).username == "alice"
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        await auth.set_password(manager, "nobody", new)
    with pytest.raises(InvalidInput):
        await auth.set_password(manager, "alice", Secret("weak"))


# --- login ----------------------------------------------------------------


async def test_login_ok_wrong_password_and_unknown_user(manager: Manager) -> None:
    alice = await make_user(manager)
    assert await login(manager, user=" Alice ") == alice
    with pytest.raises(LoginFailed) as wrong:
        await login(manager, WRONG)
    with pytest.raises(LoginFailed) as unknown:
        await login(manager, user="mallory")
    assert str(wrong.value) == str(unknown.value) == "wrong user name or password"
    assert wrong.value.hint == unknown.value.hint
    assert await failures(manager) == 2
    logins = [e for e in await audit.entries(manager) if e.action == "login"]
    assert [(e.actor, e.result, e.detail.get("reason")) for e in logins] == [
        ("mallory", "failed", "unknown user"),
        ("alice", "failed", "wrong password"),
        ("alice", "ok", None),
    ]
    assert all(e.detail["client"] == CLIENT for e in logins)


async def _age_failures(manager: Manager, seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past (instead of waiting)."""
    async with manager.db.session() as session:
        for failure in await session.scalars(select(LoginFailure)):
            failure.at -= timedelta(seconds=seconds)


async def _failed_just_now(manager: Manager) -> None:
    """Date every recorded failure now: however slow the machine, no wait has passed."""
    async with manager.db.session() as session:
        await session.execute(update(LoginFailure).values(at=utcnow()))


async def test_wrong_passwords_meet_growing_delays_not_a_lockout(manager: Manager) -> None:
    await make_user(manager)
    errors: list[ClustermgrError] = []
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(LoginFailed) as failed:
            await login(manager, WRONG)
        errors.append(failed.value)
    waits = []
    for _ in range(5):
        await _failed_just_now(manager)
        with pytest.raises(LoginThrottled) as early:
            await login(manager, WRONG)
        errors.append(early.value)
        waits.append(early.value.retry_after)
        # Throttled attempts are not counted: asking again changes nothing.
        with pytest.raises(LoginThrottled) as again:
            await login(manager)
        assert again.value.retry_after == early.value.retry_after
        await _age_failures(manager, early.value.retry_after)
        with pytest.raises(LoginFailed):
            await login(manager, WRONG)
    assert waits == [1, 2, 4, 8, 16]
    assert errors[-1].code == "login_throttled" and "too many failed logins" in str(errors[-1])
    assert await failures(manager) == auth.FREE_FAILURES + 5
    results = [e.result for e in await audit.entries(manager) if e.action == "login"]
    assert results.count("failed") == auth.FREE_FAILURES + 5 and results.count("refused") == 10
    # Once the wait is over, the right password gets in: no lockout.
    await _age_failures(manager, 32)
    assert (await login(manager)).username == "alice"
    assert await failures(manager) == 0
    for error in errors:
        assert PLAIN_PASSWORD not in f"{error} {error.hint}"


async def test_the_delay_is_capped(manager: Manager) -> None:
    assert auth.delay_after(auth.FREE_FAILURES - 1) == timedelta(0)
    assert auth.delay_after(auth.FREE_FAILURES) == timedelta(seconds=1)
    assert auth.delay_after(auth.FREE_FAILURES + 100_000) == auth.MAX_DELAY
    await make_user(manager)
    async with manager.db.session() as session:
        session.add_all(
            LoginFailure(username="alice", client=f"198.51.100.{n}", at=utcnow()) for n in range(60)
        )
    with pytest.raises(LoginThrottled) as caught:
        await login(manager)
    assert caught.value.retry_after == auth.MAX_DELAY.total_seconds()
    # Failures age out.
    await _age_failures(manager, auth.FAILURE_WINDOW.total_seconds() + 1)
    assert (await login(manager)).username == "alice"


async def test_an_address_the_user_signed_in_from_gets_through(manager: Manager) -> None:
    await make_user(manager)
    await login(manager)  # CLIENT is now known for alice
    for n in range(auth.FREE_FAILURES + 3):
        with pytest.raises((LoginFailed, LoginThrottled)):
            await login(manager, WRONG, client=f"203.0.113.{n}")
    await _failed_just_now(manager)
    with pytest.raises(LoginThrottled):
        await login(manager, client="198.51.100.200")
    assert (await login(manager)).username == "alice", "the owner's address is not held back"
    # Known for alice only: another user at that address meets alice's delay by name.
    await make_user(manager, "bob")
    for n in range(auth.FREE_FAILURES):
        with pytest.raises(LoginFailed):
            await login(manager, WRONG, user="bob", client=f"203.0.113.{50 + n}")
    await _failed_just_now(manager)
    with pytest.raises(LoginThrottled):
        await login(manager, user="bob")


async def test_a_known_address_still_meets_its_own_delay(manager: Manager) -> None:
    await make_user(manager)
    await login(manager)
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(LoginFailed):
            await login(manager, WRONG)
    await _failed_just_now(manager)
    with pytest.raises(LoginThrottled):
        await login(manager)


async def test_throttling_by_client_address_across_user_names(manager: Manager) -> None:
    await make_user(manager)
    attacker = "203.0.113.66"
    for n in range(auth.FREE_FAILURES):
        with pytest.raises(LoginFailed):
            await login(manager, user=f"user{n}", client=attacker)
    await _failed_just_now(manager)
    with pytest.raises(LoginThrottled) as caught:
        await login(manager, client=attacker)
    assert caught.value.retry_after > 0
    assert (await login(manager, client=CLIENT)).username == "alice", "other clients unaffected"


async def test_success_clears_the_users_failures_from_that_client_only(manager: Manager) -> None:
    await make_user(manager)
    for client in (CLIENT, CLIENT, "198.51.100.7"):
        with pytest.raises(LoginFailed):
            await login(manager, WRONG, client=client)
    await login(manager)
    async with manager.db.session() as session:
        left = list(await session.scalars(select(LoginFailure.client)))
    assert left == ["198.51.100.7"]


async def test_user_name_throttle_holds_across_clients(manager: Manager) -> None:
    await make_user(manager)
    for n in range(auth.FREE_FAILURES):
        with pytest.raises(LoginFailed):
            await login(manager, WRONG, client=f"198.51.100.{n}")
    await _failed_just_now(manager)
    with pytest.raises(LoginThrottled):
        await login(manager, client="198.51.100.200")


# --- TOTP -----------------------------------------------------------------


async def test_totp_enrolment_and_login(manager: Manager) -> None:
    await make_user(manager)
    secret, uri = await auth.begin_totp(manager, "alice")
    totp = pyotp.TOTP(secret.reveal())
    assert uri.startswith("otpauth://totp/clustermgr:alice?secret=")
    assert "issuer=clustermgr" in uri
    assert not (await auth.list_users(manager))[0].totp_enabled, "nothing stored yet"

    with pytest.raises(InvalidInput, match="wrong TOTP code"):
        await auth.enable_totp(manager, "alice", secret, other_code(totp))
    await auth.enable_totp(manager, "alice", secret, totp.now())
    assert manager.vault.key_file.exists(), "the first sealed secret creates the vault key"
    assert (await auth.list_users(manager))[0].totp_enabled
    assert secret.reveal().encode() not in database_bytes(manager)
    with pytest.raises(AlreadyExists):
        await auth.begin_totp(manager, "alice")

    with pytest.raises(TotpRequired):
        await login(manager)
    assert await failures(manager) == 0, "a right password is no failure"
    with pytest.raises(LoginFailed):
        await login(manager, code=other_code(totp))
    with pytest.raises(LoginFailed):
        await login(manager, WRONG, code=totp.now())
    assert await failures(manager) == 2

    # The enrolment's code is spent; the next step's code is within the window.
    with pytest.raises(LoginFailed):
        await login(manager, code=totp.at(utcnow() - timedelta(seconds=30)))
    next_code = totp.at(utcnow() + timedelta(seconds=30))
    assert (await login(manager, code=next_code)).totp_enabled
    with pytest.raises(LoginFailed):
        await login(manager, code=next_code)  # a code works once

    await auth.disable_totp(manager, "alice")
    assert not (await login(manager)).totp_enabled
    actions = [e.action for e in await audit.entries(manager)]
    assert "totp.enable" in actions and "totp.disable" in actions


async def test_no_password_in_audit_or_database(manager: Manager) -> None:
    await make_user(manager)
    await auth.set_password(manager, "alice", Secret("Another horse 43", label="password"))
    for password in (PASSWORD, WRONG):
        with pytest.raises(LoginFailed):
            await login(manager, password)
    rows = await raw_rows(manager, "audit") + await raw_rows(manager, "users")
    entries = json.dumps([e.as_dict() for e in await audit.entries(manager)])
    for plain in (PLAIN_PASSWORD, WRONG.reveal(), "Another horse 43"):
        assert plain not in rows and plain not in entries
        assert plain.encode() not in database_bytes(manager)


async def test_deleted_user_cannot_log_in(manager: Manager) -> None:
    await make_user(manager)
    async with manager.db.session() as session:
        await session.execute(text("DELETE FROM users"))
    with pytest.raises(LoginFailed):
        await login(manager)
    async with manager.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
