"""roles: users and API tokens get a role; tokens an expiry (existing ones: admin, 90 days)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Existing users could do everything before roles existed: they stay admins.
EXISTING_ROLE = "admin"
#: Existing tokens never expired: they do this long after the upgrade.
EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("role", sa.String(16), nullable=False, server_default=EXISTING_ROLE)
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("role", sa.String(16), nullable=False, server_default=EXISTING_ROLE)
        )
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    expiry = datetime.now(UTC) + timedelta(days=EXISTING_TOKEN_DAYS)
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.get_bind().execute(tokens.update().values(expires_at=expiry))
    # New rows always name their role and expiry: no default grants anything.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("role", server_default=None)
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("role", server_default=None)
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("role")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")
