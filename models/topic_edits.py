"""A manager's edits of topics: rename one, or merge one into another, applied again after refits.

Topic ids are stable across refits (``textmining.topic_ids``), so an edit is kept against the id:
every refit re-applies the renames to the new labels, and every assignment of a call (ingest,
backfill after a refit, ``reprocess``) folds a merged topic's weight into the topic it was merged
into. Merging also folds the calls already stored, so history reads the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from koe.errors import InputError, NotFoundError
from koe.records import TopicWeight
from models.json_values import iso
from models.tables import CallTopicRow, TopicEditRow, TopicRow

MAX_LABEL_CHARS = 200


def _topic(session: Session, topic_id: int) -> TopicRow:
    topic = session.get(TopicRow, topic_id)
    if topic is None:
        raise NotFoundError(f"topic {topic_id} not found; list topics with `koe topics report`")
    return topic


def rename_topic(session: Session, topic_id: int, label: str, *, by: str) -> dict[str, Any]:
    """Give a topic a manager's name, kept across refits.

    Raises:
        NotFoundError: for an unknown topic.
        InputError: for an empty or too long label.

    """
    label = label.strip()
    if not label or len(label) > MAX_LABEL_CHARS:
        raise InputError(f"topic {topic_id}: a label of 1-{MAX_LABEL_CHARS} characters is needed (got {len(label)})")
    topic = _topic(session, topic_id)
    session.add(TopicEditRow(action="rename", topic_id=topic_id, label=label, edited_by=by))
    topic.label = label
    session.flush()
    return {"topic_id": topic_id, "label": label}


def merge_map(session: Session) -> dict[int, int]:
    """Merged topic id -> the topic its calls now count for (chains followed to their end)."""
    direct: dict[int, int] = {}
    for topic_id, into in session.execute(
        select(TopicEditRow.topic_id, TopicEditRow.into_topic_id).where(TopicEditRow.action == "merge").order_by(TopicEditRow.id)
    ):
        direct[int(topic_id)] = int(into)
    resolved = {}
    for start in direct:
        seen, current = {start}, direct[start]
        while current in direct and current not in seen:
            seen.add(current)
            current = direct[current]
        resolved[start] = current
    return resolved


def fold_merged(topics: tuple[TopicWeight, ...], merged: dict[int, int]) -> tuple[TopicWeight, ...]:
    """A call's topic weights with merged topics counted for the topic they were merged into."""
    if not merged or not any(t.topic_id in merged for t in topics):
        return topics
    total: dict[int, float] = {}
    labels: dict[int, str] = {}
    for weight in topics:
        target = merged.get(weight.topic_id, weight.topic_id)
        total[target] = total.get(target, 0.0) + weight.weight
        if target == weight.topic_id or target not in labels:
            labels[target] = weight.label
    return tuple(
        TopicWeight(topic_id=t, label=labels[t], weight=round(w, 4)) for t, w in sorted(total.items(), key=lambda i: (-i[1], i[0]))
    )


def merge_topic(session: Session, topic_id: int, into: int, *, by: str) -> dict[str, Any]:
    """Count a topic's calls for another topic from now on, and fold the calls already stored.

    Raises:
        NotFoundError: for an unknown topic.
        InputError: when a topic is merged into itself (also through earlier merges).

    """
    _topic(session, topic_id)
    _topic(session, into)
    target = merge_map(session).get(into, into)
    if target == topic_id:
        raise InputError(f"topic {topic_id} cannot be merged into {into}: {into} already counts for {topic_id}")
    session.add(TopicEditRow(action="merge", topic_id=topic_id, into_topic_id=into, edited_by=by))
    session.flush()
    fold_stored_calls(session)
    return {"topic_id": topic_id, "merged_into": target}


def fold_stored_calls(session: Session) -> int:
    """Fold every stored call's weight on a merged topic into its target; returns the calls changed."""
    merged = merge_map(session)
    if not merged:
        return 0
    rows = session.scalars(select(CallTopicRow).where(CallTopicRow.topic_id.in_(list(merged)))).all()
    for row in rows:
        target = merged[row.topic_id]
        existing = session.get(CallTopicRow, (row.call_pk, target))
        if existing is None:
            session.add(
                CallTopicRow(
                    call_pk=row.call_pk, topic_id=target, weight=row.weight, model_id=row.model_id, is_primary=row.is_primary
                )
            )
        else:
            existing.weight = round(existing.weight + row.weight, 4)
            existing.is_primary = existing.is_primary or row.is_primary
    session.flush()
    session.execute(delete(CallTopicRow).where(CallTopicRow.topic_id.in_(list(merged))))
    for topic_id in merged:
        topic = session.get(TopicRow, topic_id)
        if topic is not None:
            topic.active = False
    session.flush()
    return len({row.call_pk for row in rows})


def apply_topic_edits(session: Session) -> None:
    """Re-apply every edit after a refit stored new labels: the latest rename of each topic wins."""
    for topic_id, label in session.execute(
        select(TopicEditRow.topic_id, TopicEditRow.label).where(TopicEditRow.action == "rename").order_by(TopicEditRow.id)
    ):
        topic = session.get(TopicRow, topic_id)
        if topic is not None and label:
            topic.label = label
    fold_stored_calls(session)


def list_topic_edits(session: Session) -> list[dict[str, Any]]:
    """Every edit, oldest first: what was done to which topic, by whom and when."""
    return [
        {
            "id": row.id,
            "action": row.action,
            "topic_id": row.topic_id,
            "into_topic_id": row.into_topic_id,
            "label": row.label,
            "edited_by": row.edited_by,
            "edited_at": iso(row.edited_at),
        }
        for row in session.scalars(select(TopicEditRow).order_by(TopicEditRow.id))
    ]
