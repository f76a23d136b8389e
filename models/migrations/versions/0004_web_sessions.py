"""Page sign-in sessions in the database, shared by every server worker; churn-ranking indexes.

The customer ranking pages by (churn_score DESC, customer_id); the new indexes have exactly that
order, so PostgreSQL and SQLite read a page straight from the index instead of sorting ties.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``web_sessions``; replace the churn indexes with ranking-ordered ones."""
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"], unique=False)
    op.drop_index("ix_customer_summaries_churn", table_name="customer_summaries")
    op.drop_index("ix_customer_summaries_level_churn", table_name="customer_summaries")
    op.create_index(
        "ix_customer_summaries_churn_rank", "customer_summaries", [sa.text("churn_score DESC"), "customer_id"]
    )
    op.create_index(
        "ix_customer_summaries_level_churn_rank",
        "customer_summaries",
        ["churn_level", sa.text("churn_score DESC"), "customer_id"],
    )


def downgrade() -> None:
    """Drop ``web_sessions``; back to the single-column churn indexes."""
    op.drop_index("ix_customer_summaries_level_churn_rank", table_name="customer_summaries")
    op.drop_index("ix_customer_summaries_churn_rank", table_name="customer_summaries")
    op.create_index("ix_customer_summaries_churn", "customer_summaries", ["churn_score"])
    op.create_index("ix_customer_summaries_level_churn", "customer_summaries", ["churn_level", "churn_score"])
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")
