"""Time-based one-time codes (RFC 6238): enrolment, checking at login, removal.

The secret is sealed by the vault (like SSH credentials), so a stolen database
alone cannot generate codes.  A code is accepted one 30 s step before or after
the current one, and only once: the sealed value also holds the step of the
last accepted code (``last_step``), and a code of that step or an earlier one
is refused, as RFC 6238 section 5.2 asks.  (Kept in the sealed value because
the users table has no column for it.)
"""

from __future__ import annotations

import binascii
import hmac
from datetime import datetime

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import get_user, vault_is_empty
from clustermgr.auth.models import User
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import AlreadyExists, InvalidInput
from clustermgr.inventory.vault import Vault
from clustermgr.redact import Secret

ISSUER = "clustermgr"
#: Steps accepted either side of the current one (clock drift of the phone).
VALID_WINDOW = 1
_SECRET = "totp"  # noqa: S105 (a field name)
_LAST_STEP = "last_step"
_STEP_PREFIX = "step:"  # so the counter is never a bare number in the redaction list


def _totp(secret: Secret) -> pyotp.TOTP:
    """The generator of ``secret``; :class:`InvalidInput` when it is not a TOTP secret."""
    try:
        totp = pyotp.TOTP(secret.reveal())
        totp.byte_secret()
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "the TOTP secret is not valid: base32, at least 112 bits",
            hint="start the set-up again from the account page",
        ) from None
    return totp


def totp_uri(secret: Secret, name: str) -> str:
    """The ``otpauth://`` URI of ``secret`` for user ``name`` (it contains the secret)."""
    return _totp(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def matching_step(secret: Secret, code: str, at: datetime) -> int | None:
    """The time step ``code`` belongs to, within the window around ``at``; None if none.

    Raises :class:`InvalidInput` when ``secret`` is not a valid TOTP secret.
    """
    code = code.replace(" ", "")
    totp = _totp(secret)
    if len(code) != totp.digits or not code.isdigit():
        return None
    now = totp.timecode(at)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _seal(vault: Vault, secret: Secret, last_step: int, *, first: bool) -> bytes:
    step = Secret(f"{_STEP_PREFIX}{last_step}", label="totp-step")
    return vault.seal({_SECRET: secret, _LAST_STEP: step}, first=first)


def _open(vault: Vault, row: User, ciphertext: bytes) -> tuple[Secret, int]:
    fields = vault.open(ciphertext, label=f"totp of {row.username}")
    last = fields.get(_LAST_STEP)
    step = int(last.reveal().removeprefix(_STEP_PREFIX)) if last else -1
    return fields[_SECRET], step


def accept_login_code(vault: Vault, row: User, code: str) -> bool:
    """Check a login code; when right, remember its step so it cannot be used again."""
    if row.totp_ciphertext is None:
        return False
    secret, last_step = _open(vault, row, row.totp_ciphertext)
    step = matching_step(secret, code, utcnow())
    if step is None or step <= last_step:
        return False
    row.totp_ciphertext = _seal(vault, secret, step, first=False)
    return True


async def begin_totp(manager: Manager, username: str) -> tuple[Secret, str]:
    """A new secret and its ``otpauth://`` URI (for a QR code). Nothing is stored yet.

    The URI contains the secret: :func:`~clustermgr.redact.redact` masks it, so
    do not pass the URI through anything that redacts (``emit_json`` does).
    """
    async with manager.db.session() as session:
        row = await _not_enrolled(session, username)
        name = row.username
    secret = Secret.held(pyotp.random_base32(), label="totp")
    return secret, totp_uri(secret, name)


async def enable_totp(manager: Manager, username: str, secret: Secret, code: str) -> None:
    """Store ``secret`` once ``code`` proves the user's app generates the same codes."""
    step = matching_step(secret, code, utcnow())
    if step is None:
        raise InvalidInput(
            "wrong TOTP code",
            hint="enter the code your app shows now; check the clocks of the phone and the manager",
        )
    async with manager.db.session() as session:
        row = await _not_enrolled(session, username)
        first = await vault_is_empty(session)
        row.totp_ciphertext = _seal(manager.vault, secret, step, first=first)
        add_entry(session, actor=row.username, action="totp.enable", target=row.username)


async def disable_totp(
    manager: Manager,
    username: str,
    *,
    actor: str | None = None,
    as_role: UserRole = UserRole.ADMIN,
) -> None:
    """Forget a user's TOTP secret, an admin's reset after a lost phone (harmless when
    none is enrolled).  A user turns its own off with :func:`disable_own_totp`."""
    require(as_role, UserRole.ADMIN, "turning off another user's two-factor authentication")
    await forget_totp(manager, username, actor=actor)


async def forget_totp(manager: Manager, username: str, *, actor: str | None) -> None:
    """Forget the TOTP secret, unchecked: callers decide who may."""
    async with manager.db.session() as session:
        row = await get_user(session, username)
        if row.totp_ciphertext is None:
            return
        row.totp_ciphertext = None
        add_entry(session, actor=actor or row.username, action="totp.disable", target=row.username)


async def _not_enrolled(session: AsyncSession, username: str) -> User:
    row = await get_user(session, username)
    if row.totp_ciphertext is not None:
        raise AlreadyExists(
            f"user {row.username!r} already uses TOTP", hint="disable it first to enrol anew"
        )
    return row
