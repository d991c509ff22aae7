"""Imported boundary layers in the database: versions, their features and the pin in use.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create boundary_versions, boundary_features (GIST-indexed on PostGIS) and boundary_pins."""
    op.create_table(
        "boundary_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("vintage", sa.String(length=20), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column(
            "imported_at", webmap.ledger.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_boundary_versions_version")),
    )
    with op.batch_alter_table("boundary_versions") as batch_op:
        batch_op.create_index(batch_op.f("ix_boundary_versions_layer"), ["layer"])
    op.create_table(
        "boundary_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("geometry", webmap.ledger.models.base.Geometry(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_boundary_features_version_id_boundary_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_features")),
    )
    with op.batch_alter_table("boundary_features") as batch_op:
        batch_op.create_index(batch_op.f("ix_boundary_features_version_id"), ["version_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_boundary_features_geometry",
            "boundary_features",
            ["geometry"],
            postgresql_using="gist",
        )
    op.create_table(
        "boundary_pins",
        sa.Column("layer", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column(
            "pinned_at", webmap.ledger.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_boundary_pins_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_boundary_pins")),
    )


def downgrade() -> None:
    """Drop the boundary store tables."""
    op.drop_table("boundary_pins")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_boundary_features_geometry", table_name="boundary_features")
    op.drop_table("boundary_features")
    op.drop_table("boundary_versions")
