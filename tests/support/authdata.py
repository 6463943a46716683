"""Users and logins for the auth tests: a known password, raw rows, a login helper."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from clustermgr.auth import service as auth
from clustermgr.auth.models import LoginFailure
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.redact import Secret

PLAIN_PASSWORD = "Correct horse 42"
PASSWORD = Secret(PLAIN_PASSWORD, label="password")
WRONG = Secret("Wrong horse 4242", label="password")
CLIENT = "192.0.2.10"


async def make_user(manager: Manager, name: str = "alice") -> UserView:
    return await auth.create_user(manager, name, PASSWORD)


async def raw_rows(manager: Manager, table: str) -> str:
    """Every row of ``table`` as text, as the database holds it."""
    async with manager.db.engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
    return repr([tuple(row) for row in rows])


def database_bytes(manager: Manager) -> bytes:
    """The SQLite file and its journals; empty for PostgreSQL."""
    if not manager.db.is_sqlite:
        return b""
    path = Path(make_url(manager.db.url).database or "")
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def login(
    manager: Manager,
    password: Secret = PASSWORD,
    *,
    user: str = "alice",
    client: str = CLIENT,
    code: str | None = None,
) -> UserView:
    return await auth.authenticate(manager, user, password, totp_code=code, client=client)


async def failures(manager: Manager) -> int:
    async with manager.db.session() as session:
        return await session.scalar(select(func.count()).select_from(LoginFailure)) or 0


def other_code(totp: pyotp.TOTP) -> str:
    """A code valid in no step around now."""
    valid = {totp.at(utcnow() + timedelta(seconds=30 * i)) for i in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in valid)
