"""Reminder notices, their inbox recipients and deliveries, and escalation proposals.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webmap.ledger.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UTC = webmap.ledger.models.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str = "notice_id", target: str = "notices") -> sa.ForeignKeyConstraint:
    """Return the cascading foreign key of a child table on its parent's id."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}_{target}"))  # fmt: skip


def upgrade() -> None:
    """Create notices, notice_recipients, notice_deliveries and escalation_proposals."""
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("issue_number", sa.String(length=40), nullable=True),
        sa.Column("county_code", sa.String(length=12), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_notices_key")),
    )
    op.create_table(
        "notice_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("read_at", _UTC, nullable=True),
        _fk("notice_recipients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_recipients")),
        sa.UniqueConstraint("notice_id", "name", name=op.f("uq_notice_recipients_notice_id_name")),
    )
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("sent_at", _UTC, nullable=True),
        _fk("notice_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint("notice_id", "channel", "target",
                            name=op.f("uq_notice_deliveries_notice_id_channel_target")),
    )  # fmt: skip
    op.create_table(
        "escalation_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_kind", sa.String(length=20), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_proposals")),
        sa.UniqueConstraint("issue_number", "kind",
                            name=op.f("uq_escalation_proposals_issue_number_kind")),
    )  # fmt: skip
    indexes = {
        "notices": ("kind", "issue_number", "day"),
        "notice_recipients": ("notice_id", "username"),
        "notice_deliveries": ("notice_id", "state"),
        "escalation_proposals": ("issue_number", "state"),
    }
    for table, columns in indexes.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column])


def downgrade() -> None:
    """Drop the reminder and escalation tables."""
    for table in ("escalation_proposals", "notice_deliveries", "notice_recipients", "notices"):
        op.drop_table(table)
