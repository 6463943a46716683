"""The log store's tables are its own SQL, outside the ORM models.

Their shape differs by database (an FTS5 index and its shadow tables in SQLite,
partitions made at ingest in PostgreSQL), so the migration that makes them is
the one description of them, and a comparison of the models with the database
leaves them out.
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = ("log_records", "log_fts", "log_resume")


def kept_outside_models(name: str | None, type_: str, parent_names: Mapping[str, object]) -> bool:
    """For Alembic's ``include_name``: False for the log store's tables (and their
    partitions and shadow tables), True for everything else."""
    return not (type_ == "table" and name is not None and name.startswith(PREFIX))
