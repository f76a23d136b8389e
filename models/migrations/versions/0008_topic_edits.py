"""Managers' topic edits (rename, merge), kept so every refit and reprocess applies them again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``topic_edits``."""
    op.create_table(
        "topic_edits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("into_topic_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("edited_by", sa.String(length=200), nullable=False),
        sa.Column("edited_at", models.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["into_topic_id"], ["topics.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_topic_edits_topic", "topic_edits", ["topic_id", "id"])


def downgrade() -> None:
    """Drop ``topic_edits``."""
    op.drop_index("ix_topic_edits_topic", table_name="topic_edits")
    op.drop_table("topic_edits")
