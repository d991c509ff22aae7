"""Rate-limit hits shared by all worker processes (failed logins per account and address).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UTC = webmap.ledger.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Create rate_hits."""
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_hits")),
    )
    with op.batch_alter_table("rate_hits") as batch_op:
        batch_op.create_index("ix_rate_hits_key_at", ["key", "at"])
        batch_op.create_index(batch_op.f("ix_rate_hits_at"), ["at"])


def downgrade() -> None:
    """Drop rate_hits."""
    op.drop_table("rate_hits")
