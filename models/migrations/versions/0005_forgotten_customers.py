"""Suppression list of erased customers, so re-ingesting their recordings does not restore them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``forgotten_customers``."""
    op.create_table(
        "forgotten_customers",
        sa.Column("customer_hash", sa.String(length=64), nullable=False),
        sa.Column("forgotten_at", models.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_hash"),
    )


def downgrade() -> None:
    """Drop ``forgotten_customers``."""
    op.drop_table("forgotten_customers")
