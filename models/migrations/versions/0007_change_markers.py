"""Change markers: counters that tell every server process to drop its key or report cache.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``change_markers`` with its two counters (``keys``, ``reports``) at 0."""
    table = op.create_table(
        "change_markers",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", models.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(table, [{"name": name, "generation": 0, "changed_at": now} for name in ("keys", "reports")])


def downgrade() -> None:
    """Drop ``change_markers``."""
    op.drop_table("change_markers")
