"""Alembic migrations, run programmatically on a connection we already hold.

Every manager that opens checks the schema's revision against the newest one here;
that check reads the revision files' ``revision``/``down_revision`` and the
``alembic_version`` table directly, so a command that only reads the database does
not import Alembic (it loads to upgrade).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection

from clustermgr.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).parent
#: Alembic's table of the revision a database is at (its default name).
VERSION_TABLE = "alembic_version"


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision: the one no other revision follows."""
    follows = dict(_revision(path) for path in (SCRIPT_LOCATION / "versions").glob("*.py"))
    heads = set(follows) - set(follows.values())
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {sorted(heads)}"
    return heads.pop()


def _revision(path: Path) -> tuple[str, str | None]:
    """A revision file's ``revision`` and ``down_revision`` (plain string constants)."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value.value
    revision, down = values.get("revision"), values.get("down_revision")
    assert isinstance(revision, str), f"{path.name}: no revision"
    assert down is None or isinstance(down, str), f"{path.name}: down_revision is not one string"
    return revision, down


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when it has no version table or it is empty."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = table(VERSION_TABLE, column("version_num"))
    found = list(connection.execute(select(versions.c.version_num)).scalars())
    if len(found) > 1:
        raise DatabaseError(
            f"the database is at several revisions at once: {', '.join(found)}",
            hint="restore it from a backup",
        )
    return found[0] if found else None


def upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(config(connection), "head")
