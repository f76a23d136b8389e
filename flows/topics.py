"""Topic-model wiring: assign calls with the current model, refit, map to the previous version, backfill."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from prefect import flow, get_run_logger
from sqlalchemy.orm import Session

from koe.records import CallAnalysis, TopicWeight, Utterance
from koe.settings import Settings, get_settings
from models.calls import store_topic_weights
from models.db import ensure_database, transaction, with_retries
from models.topics import TopicDraft, current_topic_model, save_topic_model, topic_documents

#: Fewer done calls than this and no topic model is fitted (topics from a handful of calls mislead).
MIN_DOCUMENTS = 6


@lru_cache(maxsize=4)
def _load_model(version: str, model_json: str) -> Any:
    from textmining.topics import TopicModel

    return TopicModel.from_dict(json.loads(model_json))


def _weights(model: Any, topic_ids: tuple[int, ...], labels: list[str], tokens: tuple[str, ...]) -> tuple[TopicWeight, ...]:
    from textmining.topics import assign_topics

    return tuple(
        TopicWeight(topic_ids[w.topic_id], labels[w.topic_id], w.weight) for w in assign_topics(model, tokens)
    )


def assign_current_topics(session: Session, analysis: CallAnalysis) -> tuple[tuple[TopicWeight, ...], int | None]:
    """A call's topics under the current model (none before the first fit) and the model's id."""
    stored = current_topic_model(session)
    if stored is None or not analysis.document_tokens:
        return (), stored.model_id if stored else None
    model = _load_model(stored.version, json.dumps(stored.model, sort_keys=True))
    return _weights(model, stored.topic_ids, list(model.labels), analysis.document_tokens), stored.model_id


def _documents(rows: list[tuple[str, tuple[str, ...], str]]) -> tuple[str, ...]:
    from textmining.topics import document_tokens

    utterances = [Utterance(speaker=speaker, start_s=0.0, end_s=0.0, text=text) for speaker, _, text in rows]  # type: ignore[arg-type]
    return tuple(document_tokens(utterances, [tokens for _, tokens, _ in rows]))


def ensure_topic_model(settings: Settings, *, refit: bool) -> int:
    """Fit a topic model when there is none (or when ``refit``), map it onto the previous one and backfill.

    Returns:
        How many calls got new topic assignments (0 when nothing was fitted).

    """
    from textmining.topics import fit_topic_model, map_topics, representative_quotes

    url = settings.resolved_database_url
    with transaction(url) as session:
        previous = current_topic_model(session)
        if previous is not None and not refit:
            return 0
        rows = topic_documents(session)
    documents = [(pk, _documents(utterances), utterances) for pk, utterances in rows]
    documents = [d for d in documents if d[1]]
    if len(documents) < MIN_DOCUMENTS:
        return 0
    model = fit_topic_model([tokens for _, tokens, _ in documents], n_topics=settings.topic_count)
    mapping: dict[int, int] = {}
    if previous is not None:
        old = _load_model(previous.version, json.dumps(previous.model, sort_keys=True))
        mapping = {new: previous.topic_ids[old_index] for new, old_index in map_topics(old, model).items()}
    quotes = representative_quotes(
        model,
        [tokens for _, tokens, _ in documents],
        [[(speaker, text) for speaker, _, text in utterances] for _, _, utterances in documents],
    )
    drafts = [
        TopicDraft(
            previous_id=mapping.get(index),
            label=model.labels[index],
            top_terms=tuple(model.top_terms[index]),
            quotes=tuple(quotes[index]) if index < len(quotes) else (),
        )
        for index in range(len(model.labels))
    ]
    model_dict = model.to_dict()
    version = hashlib.sha256(json.dumps(model_dict, sort_keys=True).encode()).hexdigest()[:16]

    def save_and_backfill() -> int:
        with transaction(url) as session:
            stored = save_topic_model(
                session,
                version=version,
                model=model_dict,
                drafts=drafts,
                n_documents=len(documents),
                params={"n_topics": settings.topic_count},
            )
            labels = list(model.labels)
            for call_pk, tokens, _ in documents:
                store_topic_weights(session, call_pk, _weights(model, stored.topic_ids, labels, tokens), stored.model_id)
        return len(documents)

    return with_retries(save_and_backfill)


@flow(name="refresh-topics", log_prints=True)
def refresh_topics() -> dict[str, Any]:
    """Refit the topic model on stored calls, keep topic ids across versions, and backfill assignments."""
    from flows.runs import finish_flow_run, publish_artifacts, start_flow_run

    settings = get_settings()
    ensure_database(settings.resolved_database_url)
    run_id = start_flow_run("refresh_topics", {})
    backfilled = ensure_topic_model(settings, refit=True)
    summary = {"calls_assigned": backfilled, "run_id": run_id}
    get_run_logger().info("topic model refreshed: %d calls assigned", backfilled)
    finish_flow_run(run_id, summary)
    publish_artifacts(settings)
    return summary
