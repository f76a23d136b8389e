"""One primary topic per call: ``call_topics.is_primary``, so topic volumes add up to the calls.

Existing rows are backfilled: each call's heaviest topic becomes primary when it holds at least 30 %
of the call's topic weight (``textmining.topics.PRIMARY_MIN_SHARE``); other calls are 「その他」.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``is_primary`` with its index and mark each call's primary topic."""
    with op.batch_alter_table("call_topics") as batch:
        batch.add_column(sa.Column("is_primary", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_call_topics_primary", "call_topics", ["is_primary", "topic_id", "call_pk"])
    # The heaviest row of each call (lowest topic id on a tie), when it holds >= 30 % of the call's weight.
    op.execute(
        """
        UPDATE call_topics SET is_primary = TRUE
        WHERE weight >= 0.3 AND NOT EXISTS (
            SELECT 1 FROM call_topics AS other
            WHERE other.call_pk = call_topics.call_pk
              AND (other.weight > call_topics.weight
                   OR (other.weight = call_topics.weight AND other.topic_id < call_topics.topic_id))
        )
        """
    )


def downgrade() -> None:
    """Drop ``is_primary``."""
    op.drop_index("ix_call_topics_primary", table_name="call_topics")
    with op.batch_alter_table("call_topics") as batch:
        batch.drop_column("is_primary")
