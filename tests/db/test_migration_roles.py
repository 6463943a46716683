"""Migration 0008: users from before roles become admins, their tokens admins that
expire; new rows get no role by default."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from clustermgr.db import migrations
from clustermgr.db.base import utcnow


def test_existing_users_become_admins_and_their_tokens_expire(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0007")
        conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, created_at) "
                "VALUES (1, 'alice', 'h', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                "VALUES (1, 'ci', 'digest', CURRENT_TIMESTAMP)"
            )
        )
        command.upgrade(migrations.config(conn), "0008")
        assert conn.execute(text("SELECT role FROM users")).scalar_one() == "admin"
        role, expires = conn.execute(text("SELECT role, expires_at FROM api_tokens")).one()
    assert role == "admin"
    left = (utcnow().replace(tzinfo=None) + timedelta(days=90)) - _naive(expires)
    assert abs(left) < timedelta(minutes=5)
    engine.dispose()


def _naive(value: object) -> datetime:
    """SQLite hands timestamps back as text without an offset; they are UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=None)
