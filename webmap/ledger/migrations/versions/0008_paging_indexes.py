"""Indexes for a big ledger: keyset paging under the common filters, and unlocated issues.

``/api/issues`` pages by number after a cursor; with a filter in front, an index on (filter,
number) answers a late page as a range scan in number order instead of sorting the matches.
The map page counts the issues without a place on every view: a partial index holds just those.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_issues_county_number": ["county_code", "number"],
    "ix_issues_status_number": ["status", "number"],
    "ix_issues_public_number": ["public", "number"],
}


def upgrade() -> None:
    """Create the paging indexes."""
    with op.batch_alter_table("issues") as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns)
        unlocated = sa.text("lon IS NULL")
        batch_op.create_index("ix_issues_unlocated", ["id"], postgresql_where=unlocated,
                              sqlite_where=unlocated)  # fmt: skip


def downgrade() -> None:
    """Drop the paging indexes."""
    with op.batch_alter_table("issues") as batch_op:
        for name in (*INDEXES, "ix_issues_unlocated"):
            batch_op.drop_index(name)
