"""Evidence photos with their location, time, reuse and integrity checks.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UTC = webmap.ledger.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Create evidence_photos, indexed by issue, content hash, perceptual hash and verdict."""
    op.create_table(
        "evidence_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("thumb_path", sa.String(length=500), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("taken_at", _UTC, nullable=True),
        sa.Column("photo_lon", sa.Float(), nullable=True),
        sa.Column("photo_lat", sa.Float(), nullable=True),
        sa.Column("device_lon", sa.Float(), nullable=True),
        sa.Column("device_lat", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("uploaded_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"],
            name=op.f("fk_evidence_photos_issue_id_issues"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["update_id"], ["progress_updates.id"],
            name=op.f("fk_evidence_photos_update_id_progress_updates"), ondelete="SET NULL",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachments.id"],
            name=op.f("fk_evidence_photos_attachment_id_attachments"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_photos")),
    )
    with op.batch_alter_table("evidence_photos") as batch_op:
        for column in ("issue_id", "update_id", "attachment_id", "sha256", "phash", "verdict"):
            batch_op.create_index(batch_op.f(f"ix_evidence_photos_{column}"), [column])


def downgrade() -> None:
    """Drop evidence_photos."""
    op.drop_table("evidence_photos")
