"""ldap server ids (stored per hostname, never reused) and the per-cluster high-water mark

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ldap_server_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_id_ref", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_ldap_server_ids_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["server_id_ref"],
            ["servers.id"],
            name=op.f("fk_ldap_server_ids_server_id_ref_servers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ldap_server_ids")),
        sa.UniqueConstraint(
            "cluster_id", "hostname", name=op.f("uq_ldap_server_ids_cluster_id_hostname")
        ),
        sa.UniqueConstraint(
            "cluster_id", "server_id", name=op.f("uq_ldap_server_ids_cluster_id_server_id")
        ),
    )
    # A plain ADD COLUMN (no batch table copy): SQLite and PostgreSQL both do it in place.
    op.add_column(
        "clusters",
        sa.Column("ldap_server_id_mark", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    # Not a batch copy: dropping the old clusters table would cascade to its servers.
    op.drop_column("clusters", "ldap_server_id_mark")
    op.drop_table("ldap_server_ids")
