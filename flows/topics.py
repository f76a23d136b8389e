"""Topic-model wiring: assign calls with the current model, refit, keep ids across versions, backfill."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from prefect import flow, get_run_logger
from sqlalchemy.orm import Session

from koe.records import CallAnalysis, TopicWeight, Utterance
from koe.settings import Settings, get_settings
from models.calls import store_topic_weights
from models.db import ensure_database, retry_unique_races, transaction, with_retries
from models.topics import (
    TopicDocument,
    TopicDraft,
    current_topic_model,
    max_topic_id,
    save_topic_model,
    topic_documents,
)

#: Fewer done calls than this and no topic model is fitted (topics from a handful of calls mislead).
MIN_DOCUMENTS = 6
QUOTES_PER_TOPIC = 3


@lru_cache(maxsize=4)
def _load_model(version: str, model_json: str) -> Any:
    from textmining.topics import TopicModel

    return TopicModel.from_dict(json.loads(model_json))


def assign_current_topics(session: Session, analysis: CallAnalysis) -> tuple[tuple[TopicWeight, ...], int | None]:
    """A call's topics under the current model (none before the first fit) and the model's row id."""
    stored = current_topic_model(session)
    if stored is None:
        return (), None
    if not analysis.document_tokens:
        return (), stored.model_id
    model = _load_model(stored.version, json.dumps(stored.model, sort_keys=True))
    return assign_topics_for(model, analysis.document_tokens), stored.model_id


def _utterances(document: TopicDocument) -> list[Utterance]:
    return [
        Utterance(speaker=speaker, start_s=start, end_s=start, text=text)  # type: ignore[arg-type]
        for speaker, text, start in zip(document.speakers, document.texts, document.starts_s, strict=True)
    ]


def _quotes(model: Any, topic_id: int, documents: list[TopicDocument]) -> tuple[dict[str, Any], ...]:
    """Representative customer quotes of a topic, each with the call and moment it comes from."""
    from textmining.topic_documents import representative_quotes

    utterances: list[Utterance] = []
    tokens: list[tuple[str, ...]] = []
    where: dict[str, tuple[str, float]] = {}
    for document in documents:
        for utterance, utterance_tokens in zip(_utterances(document), document.tokens, strict=True):
            utterances.append(utterance)
            tokens.append(utterance_tokens)
            where.setdefault(utterance.text, (document.call_id, utterance.start_s))
    texts = representative_quotes(model, topic_id, utterances, tokens, n=QUOTES_PER_TOPIC)
    return tuple({"call_id": where[t][0], "start_s": where[t][1], "text": t} for t in texts)


def ensure_topic_model(settings: Settings, *, refit: bool) -> int:
    """Fit a topic model when there is none (or when ``refit``), keep ids of the previous one, backfill.

    Returns:
        How many calls got new topic assignments (0 when nothing was fitted).

    """
    from textmining.topic_documents import document_tokens
    from textmining.topic_ids import carry_topic_ids
    from textmining.topic_seeds import load_topic_seeds
    from textmining.topics import fit_topic_model

    url = settings.resolved_database_url
    with transaction(url) as session:
        previous = current_topic_model(session)
        if previous is not None and not refit:
            return 0
        documents = topic_documents(session)
        highest_id = max_topic_id(session)
    tokens_by_call = {d.call_pk: document_tokens(_utterances(d), d.tokens) for d in documents}
    documents = [d for d in documents if tokens_by_call[d.call_pk]]
    if len(documents) < MIN_DOCUMENTS:
        return 0
    seeds = load_topic_seeds(settings.topic_seeds) if settings.topic_seeds else ()
    model = fit_topic_model([tokens_by_call[d.call_pk] for d in documents], n_topics=settings.topic_count, seeds=seeds)
    old = None if previous is None else _load_model(previous.version, json.dumps(previous.model, sort_keys=True))
    model = carry_topic_ids(old, model, highest_id=highest_id)
    drafts = [
        TopicDraft(
            topic_id=topic_id,
            label=model.labels[index],
            top_terms=tuple(model.top_terms[index]),
            quotes=_quotes(model, topic_id, documents),
        )
        for index, topic_id in enumerate(model.topic_ids)
    ]
    model_dict = model.to_dict()

    def save_and_backfill() -> int:
        with transaction(url) as session:
            stored = save_topic_model(
                session,
                version=model.version,
                model=model_dict,
                drafts=drafts,
                n_documents=len(documents),
                params={"n_topics": settings.topic_count, "seeds": [s.name for s in seeds]},
            )
            for document in documents:
                weights = assign_topics_for(model, tokens_by_call[document.call_pk])
                store_topic_weights(session, document.call_pk, weights, stored.model_id)
        return len(documents)

    # Two runs refitting the same history at once store the same version: the loser reuses it.
    return retry_unique_races(lambda: with_retries(save_and_backfill))


def assign_topics_for(model: Any, tokens: tuple[str, ...]) -> tuple[TopicWeight, ...]:
    """A document's topic weights under ``model``."""
    from textmining.topics import assign_topics

    return assign_topics(model, tokens)


@flow(name="refresh-topics", log_prints=True)
def refresh_topics() -> dict[str, Any]:
    """Refit the topic model on stored calls, keep topic ids across versions, and backfill assignments."""
    from flows.run_records import finish_flow_run, publish_artifacts, start_flow_run

    settings = get_settings()
    ensure_database(settings.resolved_database_url)
    run_id = start_flow_run("refresh_topics", {})
    backfilled = ensure_topic_model(settings, refit=True)
    summary = {"calls_assigned": backfilled, "run_id": run_id}
    get_run_logger().info("topic model refreshed: %d calls assigned", backfilled)
    finish_flow_run(run_id, summary)
    publish_artifacts(settings)
    return summary
