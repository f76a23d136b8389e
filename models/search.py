"""Full-text search over redacted utterances, Japanese-aware (substrings, no word boundaries).

Japanese is written without spaces, so word tokenizers miss most queries. Both backends index
character trigrams instead (migration ``0003_search``):

- SQLite: an FTS5 table ``utterances_fts`` with the ``trigram`` tokenizer, kept in sync with
  ``utterances`` by triggers. Trigrams need at least 3 characters, so shorter queries fall back to
  ``LIKE`` (a scan, stopped early by ``LIMIT``).
- PostgreSQL: a ``pg_trgm`` GIN index on ``utterances.redacted_text`` that serves ``ILIKE``.

Only ``redacted_text`` is indexed and returned: search never shows raw PII.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from koe.errors import InputError
from models.json_values import iso
from models.tables import Call, UtteranceRow

MAX_QUERY_CHARS = 200


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(query: str) -> str:
    # An FTS5 string literal: double quotes inside are doubled, so no query syntax gets through.
    return '"' + query.replace('"', '""') + '"'


def search_utterances(session: Session, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Utterances whose redacted text contains ``query``, newest first.

    Args:
        session: Open session.
        query: Text to find (any substring; 1-200 characters after trimming).
        limit: Most hits returned (1-200).

    Returns:
        Hits ``{call_id, customer_id, started_at, utterance_index, speaker, start_s, end_s, text}``.

    Raises:
        InputError: for an empty or overlong query.

    """
    query = query.strip()
    if not query:
        raise InputError("q: search text is empty; give at least one character")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"q: search text is longer than {MAX_QUERY_CHARS} characters; shorten it")
    columns = (
        Call.call_id,
        Call.customer_id,
        Call.started_at,
        UtteranceRow.index,
        UtteranceRow.speaker,
        UtteranceRow.start_s,
        UtteranceRow.end_s,
        UtteranceRow.redacted_text,
    )
    statement = select(*columns).join(Call, Call.id == UtteranceRow.call_pk)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and len(query) >= 3:
        matches = text("SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH :phrase").bindparams(
            phrase=_fts_phrase(query)
        )
        statement = statement.where(UtteranceRow.id.in_(matches))
    elif dialect == "postgresql":
        statement = statement.where(UtteranceRow.redacted_text.ilike(_like_pattern(query), escape="\\"))
    else:
        statement = statement.where(UtteranceRow.redacted_text.like(_like_pattern(query), escape="\\"))
    rows = session.execute(statement.order_by(UtteranceRow.id.desc()).limit(limit))
    return [
        {
            "call_id": call_id,
            "customer_id": customer_id,
            "started_at": iso(started_at),
            "utterance_index": index,
            "speaker": speaker,
            "start_s": start_s,
            "end_s": end_s,
            "text": redacted,
        }
        for call_id, customer_id, started_at, index, speaker, start_s, end_s, redacted in rows
    ]
