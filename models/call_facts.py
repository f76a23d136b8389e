"""Call facts for the insights stage: each customer's processed calls as :class:`CallFacts`.

Facts for a set of customers are loaded with a handful of queries per 500 customers (calls, tags,
topics, categories, the utterances of each customer's newest calls), never one query per call.
Utterances are loaded for the newest :data:`UTTERANCE_CALLS` calls only: those make the customer's
trends and the brief's call summaries, and older transcripts would be most of the bytes read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from insights.records import CallFacts, CallTag, CallUtterance, Evidence
from insights.summary import TREND_CALLS
from models.tables import Call, CallCategoryRow, CallTopicRow, TagRow, TopicRow, UtteranceRow

#: Customers (or calls) per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
#: A call belongs to a topic from this weight (as in the topic report).
MIN_TOPIC_WEIGHT = 0.1
#: Each customer's newest calls whose utterances are loaded (the calls of the trend and the brief).
UTTERANCE_CALLS = TREND_CALLS


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
        newest: dict[str, list[tuple[Any, int]]] = {}
        for row in calls:
            newest.setdefault(row.customer_id, []).append(
                ((row.started_at or row.created_at, row.call_id), row.id)
            )
        latest: set[int] = set()
        wanted: list[int] = []
        for keyed in newest.values():
            keyed.sort(reverse=True)
            latest.add(keyed[0][1])
            wanted.extend(pk for _, pk in keyed[:UTTERANCE_CALLS])
        utterances = _utterances(session, wanted)
        endings = {pk: _last_customer_words(utterances.get(pk, ())) for pk in latest}
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
                        Evidence(row.call_id, *ending) if (ending := endings.get(row.id)) else None
                    ),
                    utterances=tuple(utterances.get(row.id, ())),
                )
            )
    for calls_of_customer in result.values():
        calls_of_customer.sort(key=lambda c: (c.started_at, c.call_id))
    return result


def _utterances(session: Session, call_pks: list[int]) -> dict[int, list[CallUtterance]]:
    """The utterances of each of ``call_pks``, in order (redacted text only)."""
    found: dict[int, list[CallUtterance]] = {}
    for start in range(0, len(call_pks), CHUNK):
        for pk, index, speaker, start_s, text, sentiment, label in session.execute(
            select(
                UtteranceRow.call_pk,
                UtteranceRow.index,
                UtteranceRow.speaker,
                UtteranceRow.start_s,
                UtteranceRow.redacted_text,
                UtteranceRow.sentiment,
                UtteranceRow.sentiment_label,
            )
            .where(UtteranceRow.call_pk.in_(call_pks[start : start + CHUNK]))
            .order_by(UtteranceRow.call_pk, UtteranceRow.index)
        ):
            found.setdefault(pk, []).append(CallUtterance(index, speaker, start_s, text, sentiment, label))
    return found


def _last_customer_words(utterances: Sequence[CallUtterance]) -> tuple[float, str] | None:
    """The customer's last utterance of a call as (start_s, redacted text), ``None`` when they said nothing."""
    last = next((u for u in reversed(utterances) if u.speaker == "customer"), None)
    return (last.start_s, last.text) if last else None
