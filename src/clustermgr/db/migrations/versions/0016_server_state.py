"""servers: where each is in its life in the cluster (member, joining, leaving)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch table copy): SQLite and PostgreSQL both do it in place,
    # and every server already in the inventory is a member.
    op.add_column(
        "servers",
        sa.Column("state", sa.String(length=16), server_default="member", nullable=False),
    )


def downgrade() -> None:
    # Not a batch copy: dropping the old servers table would cascade to their host keys.
    op.drop_column("servers", "state")
