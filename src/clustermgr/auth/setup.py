"""First start: a one-time token that lets whoever can read it create the first admin
(a user with the admin role).

While no user exists, :func:`setup_token` issues a random token and keeps only
its SHA-256 in ``<data_dir>/setup-token`` (mode 0600).  The plain token lives
in this process's memory only: the web app shows or logs it at startup, and
whoever has it (the person who started the manager) opens ``/setup``.

A process that finds the file but never knew its token (a restart, another
process) replaces it with a new token: the one shown last is always the one
that works.  Call :func:`setup_token` from one process only (the one that
shows it), or the processes will keep replacing each other's token.

:func:`complete_setup` claims the token by deleting the file in the same
transaction that creates the user: of two racing setups, one wins and the
other gets :class:`SetupClosed`.  If that transaction fails after the file is
gone, the next :func:`setup_token` issues a fresh one.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select

from clustermgr.audit.service import add_entry
from clustermgr.auth.common import digest, user_view
from clustermgr.auth.models import User
from clustermgr.auth.roles import UserRole
from clustermgr.auth.users import insert_user, prepare_user, user_count
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.errors import SetupClosed
from clustermgr.redact import Secret

SETUP_TOKEN_FILE = "setup-token"  # noqa: S105 (a file name)

#: Plain tokens this process issued, by file (they are never written anywhere).
_issued: dict[Path, str] = {}


def _path(manager: Manager) -> Path:
    return manager.settings.data_dir / SETUP_TOKEN_FILE


def _stored(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _matches(path: Path, token: str) -> bool:
    stored = _stored(path)
    return stored is not None and hmac.compare_digest(stored, digest(token))


def _write(path: Path, content: str) -> None:
    """Replace ``path`` atomically with a 0600 file, created with O_EXCL (no symlink games)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content + "\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _discard(path: Path) -> None:
    _issued.pop(path, None)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def setup_token(manager: Manager) -> str | None:
    """The setup token while no user exists (issued on first call); None afterwards."""
    path = _path(manager)
    if await user_count(manager):
        _discard(path)  # a user was created another way (CLI): the token is useless now
        return None
    known = _issued.get(path)
    if known is not None and _matches(path, known):
        return known
    token = secrets.token_urlsafe(32)
    _write(path, digest(token))
    _issued[path] = token
    return token


async def complete_setup(manager: Manager, token: str, username: str, password: Secret) -> UserView:
    """Create the first admin, if ``token`` is the setup token and no user exists yet."""
    path = _path(manager)
    if not _matches(path, token) or await user_count(manager):
        raise SetupClosed()
    name, password_hash = await prepare_user(username, password)
    async with manager.db.session() as session:
        if await session.scalar(select(func.count()).select_from(User)):
            raise SetupClosed()
        row = await insert_user(session, name, password_hash, UserRole.ADMIN)
        add_entry(
            session,
            actor="system",
            action="user.create",
            target=name,
            detail={"via": "setup", "role": UserRole.ADMIN.value},
        )
        try:
            path.unlink()  # claims the token: only one setup can remove the file
        except FileNotFoundError:
            raise SetupClosed() from None
        view = user_view(row)
    _issued.pop(path, None)
    return view
