"""What users do to their own account that needs their password again.

Issuing an API token, turning two-factor authentication off and changing the
password each ask for the password (and a current TOTP code when enrolled)
first, so a session left open or stolen cannot keep access after it ends,
remove the second factor, or lock the owner out.  The check is a login's:
throttled like one, and audited as ``login``; the change then writes its own
entry.
"""

from __future__ import annotations

from clustermgr.auth.login import authenticate
from clustermgr.auth.roles import UserRole
from clustermgr.auth.tokens import DEFAULT_TOKEN_DAYS, issue_token, validate_days, validate_name
from clustermgr.auth.totp import forget_totp
from clustermgr.auth.users import check_new_password, store_password
from clustermgr.core.manager import Manager
from clustermgr.redact import Secret


async def _confirm(
    manager: Manager, username: str, password: Secret, totp_code: str | None, client: str
) -> None:
    await authenticate(manager, username, password, totp_code=totp_code or None, client=client)


async def create_own_token(
    manager: Manager,
    username: str,
    name: str,
    password: Secret,
    *,
    totp_code: str | None,
    client: str,
    role: UserRole | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
) -> str:
    """A new token of the user's own, at most its role; returned once."""
    name, days = validate_name(name), validate_days(days)
    await _confirm(manager, username, password, totp_code, client)
    return await issue_token(manager, username, name, role=role, days=days, actor=None)


async def disable_own_totp(
    manager: Manager, username: str, password: Secret, *, totp_code: str | None, client: str
) -> None:
    """Turn the user's TOTP off."""
    await _confirm(manager, username, password, totp_code, client)
    await forget_totp(manager, username, actor=None)


async def change_password(
    manager: Manager,
    username: str,
    current: Secret,
    new: Secret,
    *,
    totp_code: str | None,
    client: str,
) -> None:
    """Change the user's password; every web session of the user ends."""
    check_new_password(username, new)
    await _confirm(manager, username, current, totp_code, client)
    await store_password(manager, username, new, actor=None)
