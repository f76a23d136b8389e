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


@dataclass(frozen=True, slots=True)
class StoredTopicModel:
    """The topic model in use: its row id, version, JSON form and the stable id per component."""

    model_id: int
    version: str
    model: dict[str, Any]
    topic_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TopicDraft:
    """A component of a newly fitted model, to be stored as a topic."""

    previous_id: int | None
    label: str
    top_terms: tuple[str, ...]
    quotes: tuple[dict[str, Any], ...] = ()


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
    """Store a fitted model as the current version and upsert its topics with stable ids.

    Components with a ``previous_id`` keep that id (label and terms are refreshed); the others get
    fresh ids. Topics of older versions that no component maps to are marked inactive, not deleted,
    so historic reports still resolve them.
    """
    next_id = (session.scalar(select(func.max(TopicRow.id))) or 0) + 1
    topic_ids: list[int] = []
    for draft in drafts:
        if draft.previous_id is not None and draft.previous_id not in topic_ids:
            topic_id = draft.previous_id
        else:
            topic_id, next_id = next_id, next_id + 1
        topic_ids.append(topic_id)
    session.execute(update(TopicModelRow).values(is_current=False))
    row = TopicModelRow(
        version=version,
        n_topics=len(drafts),
        n_documents=n_documents,
        params={**(params or {}), "topic_ids": topic_ids},
        model=model,
        is_current=True,
    )
    session.add(row)
    session.flush()
    session.execute(update(TopicRow).values(active=False))
    for topic_id, draft in zip(topic_ids, drafts, strict=True):
        topic = session.get(TopicRow, topic_id)
        if topic is None:
            topic = TopicRow(id=topic_id, label=draft.label)
            session.add(topic)
        topic.label = draft.label
        topic.top_terms = list(draft.top_terms)
        topic.quotes = list(draft.quotes)
        topic.model_id = row.id
        topic.active = True
    session.flush()
    return StoredTopicModel(row.id, version, model, tuple(topic_ids))


def topic_documents(
    session: Session, *, since: datetime | None = None, limit: int = 20_000
) -> list[tuple[int, list[tuple[str, tuple[str, ...], str]]]]:
    """Stored token documents of done calls, newest first: ``(call_pk, [(speaker, tokens, text)])``.

    ``text`` is the redacted utterance text (for representative quotes).
    """
    query = select(Call.id).where(Call.status == "done")
    if since is not None:
        query = query.where(Call.started_at >= since)
    call_pks = list(session.scalars(query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)))
    documents: dict[int, list[tuple[str, tuple[str, ...], str]]] = {pk: [] for pk in call_pks}
    for start in range(0, len(call_pks), 500):
        chunk = call_pks[start : start + 500]
        rows = session.execute(
            select(UtteranceRow.call_pk, UtteranceRow.speaker, UtteranceRow.tokens, UtteranceRow.redacted_text)
            .where(UtteranceRow.call_pk.in_(chunk))
            .order_by(UtteranceRow.call_pk, UtteranceRow.index)
        )
        for call_pk, speaker, tokens, text in rows:
            documents[call_pk].append((speaker, tuple(tokens.split()), text))
    return [(pk, documents[pk]) for pk in call_pks]
