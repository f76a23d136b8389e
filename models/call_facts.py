"""Call facts for the insights stage: each customer's processed calls as :class:`CallFacts`.

Facts for a set of customers are loaded with a handful of queries per 500 customers (calls, tags,
topics, categories, the customer's last words), never one query per call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from insights.records import CallFacts, CallTag, Evidence
from models.tables import Call, CallCategoryRow, CallTopicRow, TagRow, TopicRow, UtteranceRow

#: Customers (or calls) per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
#: A call belongs to a topic from this weight (as in the topic report).
MIN_TOPIC_WEIGHT = 0.1


def chunks(items: Sequence[str]) -> Iterator[list[str]]:
    """``items`` in lists of at most :data:`CHUNK`, for ``IN (...)`` queries."""
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def load_call_facts(session: Session, customer_ids: Sequence[str]) -> dict[str, list[CallFacts]]:
    """The processed (``done``) calls of each customer as :class:`CallFacts`, oldest first.

    Five queries per 500 customers, each served by an index on ``customer_id``/``call_pk``.

    Returns:
        Calls per customer id; customers without processed calls map to an empty list.

    """
    result: dict[str, list[CallFacts]] = {c: [] for c in customer_ids}
    for chunk in chunks(list(dict.fromkeys(customer_ids))):
        done = and_(Call.customer_id.in_(chunk), Call.status == "done")
        calls = session.execute(
            select(
                Call.id,
                Call.call_id,
                Call.customer_id,
                Call.started_at,
                Call.created_at,
                Call.duration_s,
                Call.effort_index,
                Call.do_effort,
                Call.feel_effort,
                Call.customer_sentiment,
                Call.customer_sentiment_start,
                Call.customer_sentiment_end,
                Call.trajectory,
            ).where(done)
        ).all()
        tags: dict[int, list[CallTag]] = {}
        for pk, tag, index, start_s, evidence in session.execute(
            select(TagRow.call_pk, TagRow.tag, TagRow.utterance_index, TagRow.start_s, TagRow.evidence)
            .join(Call, Call.id == TagRow.call_pk)
            .where(done)
            .order_by(TagRow.call_pk, TagRow.start_s, TagRow.id)
        ):
            tags.setdefault(pk, []).append(CallTag(tag, index, start_s, evidence))
        topics: dict[int, list[tuple[int, str]]] = {}
        for pk, topic_id, label in session.execute(
            select(CallTopicRow.call_pk, CallTopicRow.topic_id, TopicRow.label)
            .join(Call, Call.id == CallTopicRow.call_pk)
            .join(TopicRow, TopicRow.id == CallTopicRow.topic_id)
            .where(done, CallTopicRow.weight >= MIN_TOPIC_WEIGHT)
            .order_by(CallTopicRow.call_pk, CallTopicRow.weight.desc(), CallTopicRow.topic_id)
        ):
            topics.setdefault(pk, []).append((topic_id, label))
        categories: dict[int, set[str]] = {}
        for pk, category in session.execute(
            select(CallCategoryRow.call_pk, CallCategoryRow.category)
            .join(Call, Call.id == CallCategoryRow.call_pk)
            .where(done)
        ):
            categories.setdefault(pk, set()).add(category)
        latest: dict[str, Any] = {}
        for row in calls:
            when = row.started_at or row.created_at
            if row.customer_id not in latest or (when, row.call_id) > latest[row.customer_id][0]:
                latest[row.customer_id] = ((when, row.call_id), row.id)
        endings = _last_customer_words(session, [pk for _, pk in latest.values()])
        for row in calls:
            call_topics = topics.get(row.id, [])
            result[row.customer_id].append(
                CallFacts(
                    call_id=row.call_id,
                    started_at=row.started_at or row.created_at,
                    duration_s=row.duration_s,
                    topic_ids=tuple(t for t, _ in call_topics),
                    topic_labels=tuple(label for _, label in call_topics),
                    categories=tuple(sorted(categories.get(row.id, ()))),
                    tags=tuple(tags.get(row.id, ())),
                    effort_index=row.effort_index,
                    do_effort=row.do_effort,
                    feel_effort=row.feel_effort,
                    customer_sentiment=row.customer_sentiment,
                    customer_sentiment_start=row.customer_sentiment_start,
                    customer_sentiment_end=row.customer_sentiment_end,
                    trajectory=row.trajectory,
                    last_customer_utterance=(
                        Evidence(row.call_id, *endings[row.id]) if row.id in endings else None
                    ),
                )
            )
    for calls_of_customer in result.values():
        calls_of_customer.sort(key=lambda c: (c.started_at, c.call_id))
    return result


def _last_customer_words(session: Session, call_pks: list[int]) -> dict[int, tuple[float, str]]:
    """The customer's last utterance (start_s, redacted text) in each of ``call_pks``."""
    words: dict[int, tuple[int, float, str]] = {}
    for start in range(0, len(call_pks), CHUNK):
        for pk, index, start_s, text in session.execute(
            select(
                UtteranceRow.call_pk, UtteranceRow.index, UtteranceRow.start_s, UtteranceRow.redacted_text
            ).where(
                UtteranceRow.call_pk.in_(call_pks[start : start + CHUNK]), UtteranceRow.speaker == "customer"
            )
        ):
            if pk not in words or index > words[pk][0]:
                words[pk] = (index, start_s, text)
    return {pk: (start_s, text) for pk, (_, start_s, text) in words.items()}
