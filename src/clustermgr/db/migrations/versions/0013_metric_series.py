"""metric series: the embedded store of scraped metrics, raw and rolled up per minute and hour

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _values(table: str, *columns: sa.Column[object]) -> None:
    op.create_table(
        table,
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["metric_series.id"],
            name=op.f(f"fk_{table}_series_id_metric_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "at", name=op.f(f"pk_{table}")),
    )
    with op.batch_alter_table(table) as batch:
        batch.create_index(f"ix_{table}_at", ["at"], unique=False)


def _rollup(table: str) -> None:
    _values(
        table,
        sa.Column("avg", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_series")),
        sa.UniqueConstraint(
            "cluster",
            "host",
            "name",
            "labels",
            name=op.f("uq_metric_series_cluster_host_name_labels"),
        ),
    )
    _values("metric_points", sa.Column("value", sa.Float(), nullable=False))
    _rollup("metric_minutes")
    _rollup("metric_hours")
    op.create_table(
        "metric_rollups",
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("minutes_until", sa.BigInteger(), nullable=False),
        sa.Column("hours_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", name=op.f("pk_metric_rollups")),
    )


def downgrade() -> None:
    for table in ("metric_rollups", "metric_hours", "metric_minutes", "metric_points"):
        op.drop_table(table)
    op.drop_table("metric_series")
