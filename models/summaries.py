"""Customer summaries and churn risk: load call facts, store assessments, and the API's reads.

Facts for a set of customers are loaded with a handful of queries per 500 customers (calls, tags,
topics, categories, the customer's last words), never one query per call. An assessment is stored
in ``customer_summaries``: indexed columns for ranking (``churn_score``, ``churn_level``,
``last_contact``, ``effort_index``, ``top_reason``, ``churn_model_version``) and the whole summary,
risk and brief as JSON, so every read here is one indexed row lookup or one index range scan.

Write functions only add and flush; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Row, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from insights.assess import CustomerAssessment, assess_customer
from insights.churn import ChurnWeights
from insights.labels import LEVEL_LABELS, factor_label, tag_label
from insights.records import CallFacts, CallTag, ChurnRisk, Evidence, jsonable
from insights.summary import summarise_customer
from insights.train import (
    TrainedChurnModel,
    customer_features,
    load_churn_model,
    read_churn_labels,
    serialise_churn_model,
    train_churn_model,
)
from insights.webhook import DeliveryResult
from koe.errors import InputError, NotFoundError, TrainingError
from models.cursors import decode_cursor, encode_cursor
from models.reads import iso
from models.tables import (
    Call,
    CallCategoryRow,
    CallTopicRow,
    Customer,
    CustomerSummaryRow,
    TagRow,
    TopicRow,
    UtteranceRow,
    WebhookDelivery,
)
from models.trained import load_trained_model, save_trained_model

#: Customers per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
#: A call belongs to a topic from this weight (as in the topic report).
MIN_TOPIC_WEIGHT = 0.1
#: Newest calls kept in a stored summary's timeline.
TIMELINE_CALLS = 200
CHURN_KIND = "churn"

Order = Literal["churn_risk", "last_contact"]


@dataclass(frozen=True, slots=True)
class RiskChange:
    """A stored assessment's churn level before and after a refresh (``previous`` is ``None`` when new)."""

    customer_id: str
    previous_level: str | None
    risk: ChurnRisk


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def load_call_facts(session: Session, customer_ids: Sequence[str]) -> dict[str, list[CallFacts]]:
    """The processed (``done``) calls of each customer as :class:`CallFacts`, oldest first.

    Five queries per 500 customers, each served by an index on ``customer_id``/``call_pk``.

    Returns:
        Calls per customer id; customers without processed calls map to an empty list.

    """
    result: dict[str, list[CallFacts]] = {c: [] for c in customer_ids}
    for chunk in _chunks(list(dict.fromkeys(customer_ids))):
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


def current_churn_model(session: Session) -> TrainedChurnModel | None:
    """The current trained churn model, or ``None`` (then the default weights score)."""
    stored = load_trained_model(session, CHURN_KIND)
    if stored is None:
        return None
    cached = _MODELS.get(stored.version)
    if cached is None:
        cached = _MODELS[stored.version] = load_churn_model(stored.blob, stored.version)
    return cached


_MODELS: dict[str, TrainedChurnModel] = {}


def save_assessments(session: Session, assessments: Sequence[CustomerAssessment]) -> list[RiskChange]:
    """Insert or update the summary rows of ``assessments``; returns each customer's level change."""
    ids = [a.summary.customer_id for a in assessments]
    existing: dict[str, CustomerSummaryRow] = {}
    for chunk in _chunks(ids):
        for found in session.scalars(
            select(CustomerSummaryRow).where(CustomerSummaryRow.customer_id.in_(chunk))
        ):
            existing[found.customer_id] = found
    changes = []
    for assessment in assessments:
        summary, risk = assessment.summary, assessment.risk
        previous = existing.get(summary.customer_id)
        changes.append(RiskChange(summary.customer_id, previous.churn_level if previous else None, risk))
        row = previous if previous is not None else CustomerSummaryRow(customer_id=summary.customer_id)
        if previous is None:
            session.add(row)
        stored = jsonable(summary)
        stored["timeline"] = stored["timeline"][-TIMELINE_CALLS:]
        row.computed_at = summary.computed_at
        row.call_count = summary.call_count
        row.first_contact = summary.first_contact
        row.last_contact = summary.last_contact
        row.effort_index = summary.effort_index
        row.churn_score = risk.score
        row.churn_level = risk.level
        row.churn_model_version = risk.model_version
        row.top_reason = risk.top_reason
        row.summary = {"summary": stored, "churn_risk": jsonable(risk), "brief": jsonable(assessment.brief)}
    session.flush()
    return changes


def refresh_summaries(
    session: Session, customer_ids: Sequence[str], *, now: datetime, weights: ChurnWeights | None = None
) -> list[RiskChange]:
    """Recompute and store the summaries and churn risk of ``customer_ids`` (current model or weights)."""
    facts = load_call_facts(session, customer_ids)
    model = current_churn_model(session)
    assessments = [
        assess_customer(customer_id, calls, now=now, weights=weights, model=model)
        for customer_id, calls in facts.items()
    ]
    return save_assessments(session, assessments)


def all_customer_ids(session: Session) -> list[str]:
    """Every customer id, sorted."""
    return list(session.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))


def record_webhook_delivery(
    session: Session, customer_id: str, url: str, event: dict[str, Any], result: DeliveryResult
) -> int:
    """Record one webhook event and how its delivery went; returns the delivery row id."""
    row = WebhookDelivery(
        customer_id=customer_id,
        url=url,
        event=event,
        status=result.status,
        attempts=result.attempts,
        last_status_code=result.status_code,
        last_error=result.error,
        delivered_at=result.delivered_at,
    )
    session.add(row)
    session.flush()
    return row.id


def train_churn_from_csv(session: Session, path: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """``koe churn train --labels churned.csv``: fit, evaluate and store a churn model version.

    Labelled customers without processed calls are left out (counted in ``unknown_customers``).
    Stored scores keep their old model version until the customers are refreshed
    (``rescore_customers``).

    Returns:
        The training report: ``version``, ``customers``, ``churned``, ``cv_roc_auc``, ``cv_folds``,
        ``top_features``, ``labels_read`` and ``unknown_customers``.

    Raises:
        InputError: for an unreadable labels file.
        TrainingError: for too few labels or a single class.

    """
    labels = read_churn_labels(path)
    now = now or datetime.now(UTC)
    facts = load_call_facts(session, sorted(labels))
    known = [c for c in sorted(labels) if facts.get(c)]
    features = [customer_features(summarise_customer(c, facts[c], now=now)) for c in known]
    model, report = train_churn_model(features, [labels[c] for c in known])
    stored = save_trained_model(session, CHURN_KIND, serialise_churn_model(model), report)
    if stored.version != model.version:
        raise TrainingError(f"stored churn model version {stored.version} differs from {model.version}")
    return {**report, "labels_read": len(labels), "unknown_customers": len(labels) - len(known)}


# --- reads: the API's shapes ---------------------------------------------------------------


# The customer pages need only the stored document. A Core query on the session's connection skips
# the ORM's identity map, instance state and the other ten columns' conversions: about 40% of a
# lookup, measured on SQLite (0.9 vs 1.6 ms per request-sized transaction).
_SUMMARY_DOC = select(CustomerSummaryRow.summary).where(CustomerSummaryRow.customer_id == bindparam("customer_id"))


def _summary_doc(session: Session, customer_id: str) -> dict[str, Any]:
    """The stored ``{summary, churn_risk, brief}`` document of a customer, computed if not stored yet."""
    doc = session.connection().execute(_SUMMARY_DOC, {"customer_id": customer_id}).scalar_one_or_none()
    if doc is not None:
        return dict(doc)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError(f"customer {customer_id!r} not found; list customers with GET /customers")
    # A known customer not summarised yet (no refresh since their calls): compute it now, unsaved.
    facts = load_call_facts(session, [customer_id])
    assessment = assess_customer(
        customer_id, facts[customer_id], now=datetime.now(UTC), model=current_churn_model(session)
    )
    summary = jsonable(assessment.summary)
    summary["timeline"] = summary["timeline"][-TIMELINE_CALLS:]
    return {"summary": summary, "churn_risk": jsonable(assessment.risk), "brief": jsonable(assessment.brief)}


def _risk_out(risk: dict[str, Any]) -> dict[str, Any]:
    return {
        "score": risk["score"],
        "level": risk["level"],
        "level_label": LEVEL_LABELS.get(risk["level"], risk["level"]),
        "reasons": [
            {
                "factor": r["factor"],
                "label": factor_label(r["factor"]),
                "contribution": r["contribution"],
                "detail": r.get("detail", ""),
                "evidence": r["evidence"],
            }
            for r in risk["reasons"]
        ],
        "model_version": risk["model_version"],
    }


def customer_detail(session: Session, customer_id: str) -> dict[str, Any]:
    """A customer's summary and churn risk in the shape of ``GET /customers/{customer_id}``.

    Raises:
        NotFoundError: for an unknown customer.

    """
    doc = _summary_doc(session, customer_id)
    s = doc["summary"]
    return {
        "customer_id": customer_id,
        "computed_at": s["computed_at"],
        "call_count": s["call_count"],
        "first_contact": s["first_contact"],
        "last_contact": s["last_contact"],
        "contacts": {
            "last_7d": s["contacts_7d"],
            "last_30d": s["contacts_30d"],
            "last_90d": s["contacts_90d"],
        },
        "churn_risk": _risk_out(doc["churn_risk"]),
        "effort_index": s["effort_index"],
        "effort_trend": s["effort_trend"],
        "sentiment": {"recent_mean": s["recent_sentiment"], "trend": s["sentiment_trend"]},
        "tags": s["tag_counts"],
        "tag_labels": {tag: tag_label(tag) for tag in s["tag_counts"]},
        "repeat_contacts": {
            "count": len(s["repeat_contacts"]),
            "rate": s["repeat_contact_rate"],
            "same_topic_rate": s["same_topic_repeat_rate"],
            "calls": s["repeat_contacts"],
        },
        "top_topics": [
            {"topic_id": int(t["key"]), "label": t["label"], "calls": t["calls"]} for t in s["top_topics"]
        ],
        "top_categories": [{"category": c["key"], "calls": c["calls"]} for c in s["top_categories"]],
        "open_issues": s["open_issues"],
        "recent_evidence": [{**e, "tag_label": tag_label(e["tag"])} for e in s["recent_evidence"]],
        "last_customer_utterance": s["last_customer_utterance"],
        "calls": [
            {
                "call_id": p["call_id"],
                "started_at": p["started_at"],
                "sentiment": p["customer_sentiment"],
                "effort_index": p["effort_index"],
                "trajectory": p["trajectory"],
                "topic_id": p["topic_id"],
                "topic_label": p["topic_label"],
            }
            for p in s["timeline"]
        ],
    }


def customer_brief(session: Session, customer_id: str) -> dict[str, Any]:
    """The CSM brief of ``GET /customers/{customer_id}/brief`` (see :mod:`insights.brief`).

    Raises:
        NotFoundError: for an unknown customer.

    """
    return dict(_summary_doc(session, customer_id)["brief"])


def list_customers(
    session: Session,
    *,
    order: Order = "churn_risk",
    level: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of customers, highest churn score first (or most recent contact first).

    Keyset pagination over ``(churn_score DESC, customer_id)`` or ``(last_contact DESC NULLS LAST,
    customer_id)``, served by the ``customer_summaries`` indexes.

    Args:
        session: Open session.
        order: ``churn_risk`` or ``last_contact``.
        level: Only customers at this level (``low``, ``medium``, ``high``).
        limit: Page size (1-200 at the API).
        cursor: ``next_cursor`` of the previous page.

    Returns:
        The items and the cursor of the next page (``None`` on the last page).

    Raises:
        InputError: for a malformed cursor or an unknown order.

    """
    t = CustomerSummaryRow
    # The list shows a few plain columns: loading (and JSON-decoding) every summary document, or
    # building ORM objects, would be most of the cost of a page.
    query = select(*_LIST_COLUMNS)
    if level is not None:
        query = query.where(t.churn_level == level)
    if order == "churn_risk":
        if cursor:
            score, after = decode_cursor(cursor, "score", "text")
            query = query.where(
                or_(t.churn_score < score, and_(t.churn_score == score, t.customer_id > after))
            )
        query = query.order_by(t.churn_score.desc(), t.customer_id)
    elif order == "last_contact":
        if cursor:
            when, after = decode_cursor(cursor, "time", "text")
            if when is None:
                query = query.where(t.last_contact.is_(None), t.customer_id > after)
            else:
                query = query.where(
                    or_(
                        t.last_contact < when,
                        and_(t.last_contact == when, t.customer_id > after),
                        t.last_contact.is_(None),
                    )
                )
        query = query.order_by(t.last_contact.desc().nulls_last(), t.customer_id)
    else:
        raise InputError(f"order {order!r} is unknown; use churn_risk or last_contact")
    rows = list(session.execute(query.limit(limit + 1)))
    more, page = len(rows) > limit, rows[:limit]
    items = [_list_item(row) for row in page]
    if not more or not page:
        return items, None
    last = page[-1]
    key = last.churn_score if order == "churn_risk" else iso(last.last_contact)
    return items, encode_cursor(key, last.customer_id)


_LIST_COLUMNS = (
    CustomerSummaryRow.customer_id,
    CustomerSummaryRow.churn_score,
    CustomerSummaryRow.churn_level,
    CustomerSummaryRow.churn_model_version,
    CustomerSummaryRow.top_reason,
    CustomerSummaryRow.call_count,
    CustomerSummaryRow.last_contact,
    CustomerSummaryRow.effort_index,
    CustomerSummaryRow.computed_at,
)


def _list_item(row: Row[Any]) -> dict[str, Any]:
    return {
        "customer_id": row.customer_id,
        "churn_risk": {
            "score": round(row.churn_score, 4),
            "level": row.churn_level,
            "model_version": row.churn_model_version,
        },
        "level_label": LEVEL_LABELS.get(row.churn_level, row.churn_level),
        "top_reason": row.top_reason,
        "top_reason_label": factor_label(row.top_reason) if row.top_reason else None,
        "call_count": row.call_count,
        "last_contact": iso(row.last_contact),
        "effort_index": None if row.effort_index is None else round(row.effort_index, 1),
        "computed_at": iso(row.computed_at),
    }


def export_customers(session: Session) -> Iterator[dict[str, Any]]:
    """Every customer summary as a flat row, highest churn score first (``koe customers export``).

    Rows stream from the database (the session must stay open while iterating); values are scalars
    so the same rows serve CSV and JSONL. ``top_reasons`` lists up to three factor ids, ``;``-joined.
    """
    t = CustomerSummaryRow
    query = select(t).order_by(t.churn_score.desc(), t.customer_id).execution_options(yield_per=500)
    for row in session.scalars(query):
        s = row.summary.get("summary", {})
        reasons = row.summary.get("churn_risk", {}).get("reasons", [])
        yield {
            "customer_id": row.customer_id,
            "churn_score": round(row.churn_score, 4),
            "churn_level": row.churn_level,
            "churn_model_version": row.churn_model_version,
            "top_reason": row.top_reason,
            "top_reasons": ";".join(r["factor"] for r in reasons[:3]),
            "top_reason_label": factor_label(row.top_reason) if row.top_reason else None,
            "call_count": row.call_count,
            "first_contact": iso(row.first_contact),
            "last_contact": iso(row.last_contact),
            "contacts_30d": s.get("contacts_30d"),
            "repeat_contact_rate": s.get("repeat_contact_rate"),
            "open_issues": len(s.get("open_issues", [])),
            "effort_index": None if row.effort_index is None else round(row.effort_index, 1),
            "sentiment_trend": s.get("sentiment_trend"),
            "computed_at": iso(row.computed_at),
        }
