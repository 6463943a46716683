"""Migration 0016: every server already in the inventory is a member; down again, the
column goes and the servers stay."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from clustermgr.db import migrations


def test_servers_from_before_states_are_members(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0015")
        conn.execute(
            text(
                "INSERT INTO clusters (id, name, settings, created_at) "
                "VALUES (1, 'c', '{}', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO servers (cluster_id, hostname, address, ssh_port, ssh_user, role,"
                " created_at) VALUES (1, 'idp1.c.test', '192.0.2.1', 22, 'root',"
                " 'identity', CURRENT_TIMESTAMP)"
            )
        )
        command.upgrade(migrations.config(conn), "0016")
        assert conn.execute(text("SELECT state FROM servers")).scalar_one() == "member"
        command.downgrade(migrations.config(conn), "0015")
        assert conn.execute(text("SELECT hostname FROM servers")).scalar_one() == "idp1.c.test"
    engine.dispose()
