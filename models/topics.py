"""Storing topic models and the documents they are fitted on.

A topic model version is stored as JSON (``TopicModelRow.model``) with ``topic_ids``: the stable
topic id of each of its components. A refit maps its components onto the previous version's topics
(by term overlap, in ``textmining/topics.py``); components that match keep the old id, the others get
new ids, so topic ids and trends survive refits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.tables import Call, TopicModelRow, TopicRow, UtteranceRow
from models.topic_edits import apply_topic_edits


@dataclass(frozen=True, slots=True)
class StoredTopicModel:
    """The topic model in use: its row id, version, JSON form and the stable id per component."""

    model_id: int
    version: str
    model: dict[str, Any]
    topic_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TopicDraft:
    """A topic of a newly fitted model, to be stored under its stable id."""

    topic_id: int
    label: str
    top_terms: tuple[str, ...]
    quotes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TopicDocument:
    """A done call's stored utterances, as the topic model sees them."""

    call_pk: int
    call_id: str
    speakers: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]
    texts: tuple[str, ...]
    starts_s: tuple[float, ...]


def current_topic_model(session: Session) -> StoredTopicModel | None:
    """The topic model marked current, or ``None`` before the first fit."""
    row = session.scalar(select(TopicModelRow).where(TopicModelRow.is_current.is_(True)).order_by(TopicModelRow.id.desc()))
    if row is None:
        return None
    return StoredTopicModel(row.id, row.version, row.model, tuple(int(i) for i in row.params.get("topic_ids", [])))


def save_topic_model(
    session: Session,
    *,
    version: str,
    model: dict[str, Any],
    drafts: list[TopicDraft],
    n_documents: int,
    params: dict[str, Any] | None = None,
) -> StoredTopicModel:
    """Store a fitted model as the current version and upsert its topics under their stable ids.

    Topics of older versions that the new model does not carry are marked inactive, not deleted,
    so historic reports still resolve them.
    """
    topic_ids = [draft.topic_id for draft in drafts]
    session.execute(update(TopicModelRow).values(is_current=False))
    # The version is a content hash: the same calls give the same model, so a version already
    # stored (two runs refitting the same history at once) is made current again, not inserted twice.
    row = session.scalar(select(TopicModelRow).where(TopicModelRow.version == version))
    if row is None:
        row = TopicModelRow(version=version, model=model)
        session.add(row)
    row.n_topics = len(drafts)
    row.n_documents = n_documents
    row.params = {**(params or {}), "topic_ids": topic_ids}
    row.is_current = True
    session.flush()
    session.execute(update(TopicRow).values(active=False))
    for draft in drafts:
        topic = session.get(TopicRow, draft.topic_id)
        if topic is None:
            topic = TopicRow(id=draft.topic_id, label=draft.label)
            session.add(topic)
        topic.label = draft.label
        topic.top_terms = list(draft.top_terms)
        topic.quotes = list(draft.quotes)
        topic.model_id = row.id
        topic.active = True
    session.flush()
    apply_topic_edits(session)  # managers' renames and merges outlive the refit
    return StoredTopicModel(row.id, version, model, tuple(topic_ids))


def max_topic_id(session: Session) -> int:
    """The highest topic id ever stored (-1 when none): fresh ids must be above it."""
    value = session.scalar(select(func.max(TopicRow.id)))
    return -1 if value is None else int(value)


def topic_documents(session: Session, *, since: datetime | None = None, limit: int = 20_000) -> list[TopicDocument]:
    """Stored token documents of done calls, newest first (redacted texts, for quotes)."""
    query = select(Call.id, Call.call_id).where(Call.status == "done")
    if since is not None:
        query = query.where(Call.started_at >= since)
    calls = list(session.execute(query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)).tuples())
    rows: dict[int, list[tuple[str, str, str, float]]] = {pk: [] for pk, _ in calls}
    pks = list(rows)
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        result = session.execute(
            select(
                UtteranceRow.call_pk,
                UtteranceRow.speaker,
                UtteranceRow.tokens,
                UtteranceRow.redacted_text,
                UtteranceRow.start_s,
            )
            .where(UtteranceRow.call_pk.in_(chunk))
            .order_by(UtteranceRow.call_pk, UtteranceRow.index)
        )
        for call_pk, speaker, tokens, text, start_s in result:
            rows[call_pk].append((speaker, tokens, text, start_s))
    return [
        TopicDocument(
            call_pk=pk,
            call_id=call_id,
            speakers=tuple(r[0] for r in rows[pk]),
            tokens=tuple(tuple(r[1].split()) for r in rows[pk]),
            texts=tuple(r[2] for r in rows[pk]),
            starts_s=tuple(r[3] for r in rows[pk]),
        )
        for pk, call_id in calls
    ]
