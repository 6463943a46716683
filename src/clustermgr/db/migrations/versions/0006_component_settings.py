"""cluster settings: each component's section under ``components`` (``lb`` moves there)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CLUSTERS = sa.table("clusters", sa.column("id", sa.Integer), sa.column("settings", sa.JSON))


def _rewrite(move: Any) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_CLUSTERS.c.id, _CLUSTERS.c.settings)).all():
        settings = row.settings
        if isinstance(settings, str):
            settings = json.loads(settings)
        changed = move(dict(settings or {}))
        if changed is not None:
            bind.execute(
                _CLUSTERS.update().where(_CLUSTERS.c.id == row.id).values(settings=changed)
            )


def upgrade() -> None:
    def move(settings: dict[str, Any]) -> dict[str, Any] | None:
        if "lb" not in settings:
            return None
        sections = dict(settings.get("components") or {})
        sections["lb"] = settings.pop("lb")
        return {**settings, "components": sections}

    _rewrite(move)


def downgrade() -> None:
    def move(settings: dict[str, Any]) -> dict[str, Any] | None:
        sections = dict(settings.get("components") or {})
        if "lb" not in sections:
            return None
        settings["lb"] = sections.pop("lb")
        if sections:
            settings["components"] = sections
        else:
            settings.pop("components", None)
        return settings

    _rewrite(move)
