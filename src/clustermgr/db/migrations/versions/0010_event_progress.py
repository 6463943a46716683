"""event progress: a plan's events count the steps run and the steps planned

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: events stored before have no count, and most events never carry one.
    with op.batch_alter_table("job_events") as batch:
        batch.add_column(sa.Column("done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("planned", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_events") as batch:
        batch.drop_column("planned")
        batch.drop_column("done")
