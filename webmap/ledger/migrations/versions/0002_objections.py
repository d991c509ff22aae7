"""Objections raised by the public during 公示 (access issue 8).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the objections table."""
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_number", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=True),
        sa.Column("contact", sa.String(length=120), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("handled_by", sa.String(length=80), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=True),
        sa.Column(
            "created_at", webmap.ledger.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections") as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_issue_number"), ["issue_number"])
        batch_op.create_index(batch_op.f("ix_objections_client_hash"), ["client_hash"])
        batch_op.create_index(batch_op.f("ix_objections_created_at"), ["created_at"])


def downgrade() -> None:
    """Drop the objections table."""
    op.drop_table("objections")
