"""monitor: samples, latest snapshots, alerts (one open per key), watcher leases

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "resolved_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "monitor_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("peer", sa.String(length=253), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_samples")),
    )
    with op.batch_alter_table("monitor_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_samples_at"), ["at"], unique=False)
        batch_op.create_index("ix_monitor_samples_cluster_at", ["cluster", "at"], unique=False)

    op.create_table(
        "monitor_snapshots",
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", "component", name=op.f("pk_monitor_snapshots")),
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_cluster_opened_at", ["cluster", "opened_at"], unique=False)
        batch_op.create_index(
            "uq_alerts_one_open_per_key",
            ["cluster", "key"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )

    op.create_table(
        "monitor_leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_leases")),
    )


def downgrade() -> None:
    op.drop_table("monitor_leases")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_one_open_per_key",
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.drop_index("ix_alerts_cluster_opened_at")
    op.drop_table("alerts")
    op.drop_table("monitor_snapshots")
    with op.batch_alter_table("monitor_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_monitor_samples_cluster_at")
        batch_op.drop_index(batch_op.f("ix_monitor_samples_at"))
    op.drop_table("monitor_samples")
