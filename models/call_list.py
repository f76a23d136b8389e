"""The call list of ``GET /calls``: filtered, newest first, keyset-paginated on ``(started_at, id)``.

Every text here is redacted; each call comes with its distinct tags (one extra query per page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from models.call_filters import call_filters
from models.cursors import decode_cursor, encode_cursor
from models.json_values import iso, round_or_none
from models.tables import Call, TagRow


def list_calls(
    session: Session,
    *,
    customer_id: str | None = None,
    agent_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    topic_id: int | None = None,
    tag: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Calls newest first (keyset on ``(started_at, id)``), then calls with no start time.

    Args:
        session: Open session.
        customer_id: Only this customer's calls.
        agent_id: Only this agent's calls.
        since: Calls that started at or after this instant.
        until: Calls that started before this instant.
        topic_id: Only calls assigned to this topic.
        tag: Only calls carrying this tag.
        limit: Page size (1-200).
        cursor: ``next_cursor`` of the previous page.

    Returns:
        The page of call summaries and the cursor of the next page (``None`` on the last page).

    Raises:
        InputError: for a malformed cursor.

    """
    filters = call_filters(
        customer_id=customer_id, agent_id=agent_id, since=since, until=until, topic_id=topic_id, tag=tag
    )
    after_t, after_id = decode_cursor(cursor, "time", "id") if cursor else (None, None)
    rows: list[Call] = []
    timed: Select[tuple[Call]] = select(Call).where(*filters, Call.started_at.is_not(None))
    if after_id is None or after_t is not None:
        if after_t is not None and after_id is not None:
            timed = timed.where(
                or_(Call.started_at < after_t, and_(Call.started_at == after_t, Call.id < after_id))
            )
        rows = list(session.scalars(timed.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1)))
    # Calls without a start time (imports that did not say) come after every dated call, by id.
    if len(rows) <= limit and since is None and until is None:
        undated = select(Call).where(*filters, Call.started_at.is_(None))
        if after_t is None and after_id is not None:
            undated = undated.where(Call.id < after_id)
        rows += list(session.scalars(undated.order_by(Call.id.desc()).limit(limit + 1 - len(rows))))
    page, more = rows[:limit], len(rows) > limit
    tags = _tags_by_call(session, [row.id for row in page])
    items = [_call_summary(row, tags.get(row.id, [])) for row in page]
    next_cursor = encode_cursor(page[-1].started_at, page[-1].id) if more and page else None
    return items, next_cursor


def _tags_by_call(session: Session, pks: list[int]) -> dict[int, list[str]]:
    if not pks:
        return {}
    found: dict[int, list[str]] = {}
    for pk, tag in session.execute(select(TagRow.call_pk, TagRow.tag).where(TagRow.call_pk.in_(pks)).distinct()):
        found.setdefault(pk, []).append(tag)
    return {pk: sorted(tags) for pk, tags in found.items()}


def _call_summary(row: Call, tags: list[str]) -> dict[str, Any]:
    return {
        "call_id": row.call_id,
        "customer_id": row.customer_id,
        "agent_id": row.agent_id,
        "started_at": iso(row.started_at),
        "duration_s": round_or_none(row.duration_s),
        "status": row.status,
        "effort_index": round_or_none(row.effort_index, 1),
        "customer_sentiment": round_or_none(row.customer_sentiment),
        "trajectory": row.trajectory,
        "tags": tags,
    }
