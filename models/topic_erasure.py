"""Taking a forgotten customer's words out of the topic models (part of ``models.privacy``).

A topic model is fitted on every done call's tokens, so its vocabulary, top terms and labels can
hold words that only the forgotten customer said (their name, a made-up plan name, their e-mail
read out as tokens). Erasure:

- works out those words: the tokens of the customer's utterances that no other call contains;
- scrubs the current model: each such word is replaced in the vocabulary by a placeholder that no
  token can equal (so the shapes stay consistent and assignment never matches it), its weights
  are zeroed, and top terms and labels are rebuilt without it;
- drops every older version (nothing reads them: refits start from the current one), whose
  vocabularies were fitted on the customer's calls too;
- scrubs the stored topics (labels and top terms, active or not) the same way.

The current model stays usable: new calls are assigned with it, and the next ``refresh-topics``
refits on the remaining calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.tables import CallTopicRow, TopicModelRow, TopicRow, UtteranceRow

#: Joins label terms, as ``textmining.topics`` writes labels.
LABEL_JOINER = "・"
LABEL_TERMS = 2
_CHUNK = 2_000


def customer_tokens(session: Session, call_pks: list[int]) -> set[str]:
    """Every token of the utterances of ``call_pks`` (read before they are deleted)."""
    tokens: set[str] = set()
    for start in range(0, len(call_pks), 500):
        chunk = call_pks[start : start + 500]
        for value in session.scalars(select(UtteranceRow.tokens).where(UtteranceRow.call_pk.in_(chunk))):
            tokens.update((value or "").split())
    return tokens


def words_only_they_said(session: Session, candidates: set[str]) -> set[str]:
    """The ``candidates`` that no remaining utterance contains (call after their rows are deleted).

    Streams the remaining tokens once and stops as soon as every candidate was seen elsewhere.
    """
    left = set(candidates)
    if not left:
        return left
    result = session.execute(select(UtteranceRow.tokens).execution_options(yield_per=_CHUNK))
    for (value,) in result:
        if value:
            left.difference_update(value.split())
            if not left:
                break
    result.close()
    return left


def scrub_topic_models(session: Session, erased: set[str]) -> dict[str, int]:
    """Drop older topic-model versions and take ``erased`` words out of the current one and the topics.

    Returns:
        ``{topic_model_versions_dropped, topic_terms_erased, topics_scrubbed}``.

    """
    old = list(session.scalars(select(TopicModelRow.id).where(TopicModelRow.is_current.is_(False))))
    if old:
        # The foreign keys say SET NULL; done explicitly so it holds whatever the connection's pragmas.
        session.execute(update(TopicRow).where(TopicRow.model_id.in_(old)).values(model_id=None))
        session.execute(update(CallTopicRow).where(CallTopicRow.model_id.in_(old)).values(model_id=None))
        session.execute(delete(TopicModelRow).where(TopicModelRow.id.in_(old)).execution_options(synchronize_session=False))
    terms = 0
    if erased:
        for row in session.scalars(select(TopicModelRow)):
            scrubbed, count = scrub_model(row.model, erased)
            if count:
                row.model = scrubbed
                terms += count
    topics = 0
    if erased:
        for topic in session.scalars(select(TopicRow)):
            top_terms = [t for t in topic.top_terms if t not in erased]
            label = scrub_label(topic.label, erased, top_terms, fallback=f"topic {topic.id}")
            if top_terms != list(topic.top_terms) or label != topic.label:
                topic.top_terms, topic.label = top_terms, label
                topics += 1
    session.flush()
    return {"topic_model_versions_dropped": len(old), "topic_terms_erased": terms, "topics_scrubbed": topics}


def scrub_model(model: dict[str, Any], erased: set[str]) -> tuple[dict[str, Any], int]:
    """``model`` (``TopicModel.to_dict`` form) without the ``erased`` words, and how many were taken out."""
    vocabulary = [str(t) for t in model.get("vocabulary", [])]
    hits = [i for i, term in enumerate(vocabulary) if term in erased]
    labels = [str(label) for label in model.get("labels", [])]
    top_terms = [[str(t) for t in terms] for terms in model.get("top_terms", [])]
    mentioned = any(t in erased for terms in top_terms for t in terms) or any(
        part in erased for label in labels for part in label.split(LABEL_JOINER)
    )
    if not hits and not mentioned:
        return model, 0
    for i in hits:
        vocabulary[i] = f"<erased {i}>"  # tokens are words: nothing the tokeniser emits looks like this
    gone = set(hits)
    components = [[0.0 if j in gone else float(x) for j, x in enumerate(row)] for row in model.get("components", [])]
    new_top = [
        _top_terms(row, vocabulary, len(top_terms[k]) if k < len(top_terms) else 10) for k, row in enumerate(components)
    ]
    new_labels = [
        scrub_label(label, erased, new_top[k] if k < len(new_top) else [], fallback=f"topic {k}")
        for k, label in enumerate(labels)
    ]
    return {**model, "vocabulary": vocabulary, "components": components, "top_terms": new_top, "labels": new_labels}, len(hits)


def scrub_label(label: str, erased: set[str], top_terms: Iterable[str], *, fallback: str) -> str:
    """``label`` without its erased parts; when none is left, the first remaining top terms."""
    parts = label.split(LABEL_JOINER)
    if not any(part in erased for part in parts):
        return label
    kept = [part for part in parts if part not in erased]
    return LABEL_JOINER.join(kept) or LABEL_JOINER.join(list(top_terms)[:LABEL_TERMS]) or fallback


def _top_terms(row: list[float], vocabulary: list[str], n: int) -> list[str]:
    order = sorted(range(len(row)), key=lambda j: -row[j])
    return [vocabulary[j] for j in order[:n] if row[j] > 0]
