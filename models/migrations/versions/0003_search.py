"""Japanese-aware full-text search over redacted utterances.

SQLite: an external-content FTS5 table with the ``trigram`` tokenizer (substring matches without
word boundaries), kept in sync with ``utterances`` by triggers. PostgreSQL: ``pg_trgm`` and a GIN
trigram index on ``utterances.redacted_text`` serving ``ILIKE '%...%'``.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE utterances_fts USING fts5("
    "redacted_text, content='utterances', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER utterances_fts_insert AFTER INSERT ON utterances BEGIN "
    "INSERT INTO utterances_fts(rowid, redacted_text) VALUES (new.id, new.redacted_text); END",
    "CREATE TRIGGER utterances_fts_delete AFTER DELETE ON utterances BEGIN "
    "INSERT INTO utterances_fts(utterances_fts, rowid, redacted_text) VALUES ('delete', old.id, old.redacted_text); END",
    "CREATE TRIGGER utterances_fts_update AFTER UPDATE OF redacted_text ON utterances BEGIN "
    "INSERT INTO utterances_fts(utterances_fts, rowid, redacted_text) VALUES ('delete', old.id, old.redacted_text); "
    "INSERT INTO utterances_fts(rowid, redacted_text) VALUES (new.id, new.redacted_text); END",
    "INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS utterances_fts_update",
    "DROP TRIGGER IF EXISTS utterances_fts_delete",
    "DROP TRIGGER IF EXISTS utterances_fts_insert",
    "DROP TABLE IF EXISTS utterances_fts",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The extension may live in another schema than koe's (one per database): qualify its opclass.
        schema = bind.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        op.execute(
            f'CREATE INDEX ix_utterances_redacted_trgm ON utterances USING gin (redacted_text "{schema}".gin_trgm_ops)'
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_utterances_redacted_trgm")
