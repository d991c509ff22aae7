"""Personal access tokens for GIS clients (stored hashed).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = webmap.ledger.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Create access_tokens."""
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("write", sa.Boolean(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("last_used_at", _UTC, nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=True),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_access_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_access_tokens_digest")),
    )  # fmt: skip
    with op.batch_alter_table("access_tokens") as batch_op:
        batch_op.create_index(batch_op.f("ix_access_tokens_user_id"), ["user_id"])


def downgrade() -> None:
    """Drop access_tokens."""
    op.drop_table("access_tokens")
