"""Customer summaries as people and clients see them: the API's shapes, with Japanese labels.

One source of truth: ``GET /customers``, ``GET /customers/{id}`` and ``/brief``, the customer
pages and the CLI's ``koe customers ... --json`` and ``export`` all return these functions' dicts.
The stored documents come from :mod:`models.customers`; the labels (``level_label``, a reason's
``label``, ``tag_labels``) from :mod:`insights.labels`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from insights.labels import LEVEL_LABELS, factor_label, tag_label
from models.customers import (
    Order,
    RankedCustomer,
    StoredSummary,
    iter_summaries,
    rank_customers,
    summary_document,
)
from models.json_values import iso


def churn_risk_out(risk: dict[str, Any]) -> dict[str, Any]:
    """A stored churn risk with its level's and each reason's Japanese label.

    Args:
        risk: The ``churn_risk`` of a stored summary document.

    Returns:
        ``{score, level, level_label, reasons:[{factor, label, contribution, detail, evidence}],
        model_version}``.

    """
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


def customer_detail_out(customer_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A stored ``{summary, churn_risk, brief}`` document in the shape of ``GET /customers/{id}``."""
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
        "churn_risk": churn_risk_out(doc["churn_risk"]),
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


def customer_detail(session: Session, customer_id: str) -> dict[str, Any]:
    """A customer's summary and churn risk in the shape of ``GET /customers/{customer_id}``.

    Raises:
        NotFoundError: for an unknown customer.

    """
    return customer_detail_out(customer_id, summary_document(session, customer_id))


def customer_brief(session: Session, customer_id: str) -> dict[str, Any]:
    """The CSM brief of ``GET /customers/{customer_id}/brief`` (see :mod:`insights.brief`).

    Raises:
        NotFoundError: for an unknown customer.

    """
    return dict(summary_document(session, customer_id)["brief"])


def ranked_customer_out(customer: RankedCustomer) -> dict[str, Any]:
    """One item of ``GET /customers``: churn score (4 decimals), level and top reason with labels."""
    return {
        "customer_id": customer.customer_id,
        "churn_risk": {
            "score": round(customer.churn_score, 4),
            "level": customer.churn_level,
            "model_version": customer.churn_model_version,
        },
        "level_label": LEVEL_LABELS.get(customer.churn_level, customer.churn_level),
        "top_reason": customer.top_reason,
        "top_reason_label": factor_label(customer.top_reason) if customer.top_reason else None,
        "call_count": customer.call_count,
        "last_contact": iso(customer.last_contact),
        "effort_index": None if customer.effort_index is None else round(customer.effort_index, 1),
        "computed_at": iso(customer.computed_at),
    }


def list_customers(
    session: Session,
    *,
    order: Order = "churn_risk",
    level: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of ``GET /customers``, highest churn score first (or most recent contact first).

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
    page, next_cursor = rank_customers(session, order=order, level=level, limit=limit, cursor=cursor)
    return [ranked_customer_out(customer) for customer in page], next_cursor


def export_row(stored: StoredSummary) -> dict[str, Any]:
    """A stored summary as one flat export row: scalars only, so it serves CSV and JSONL alike.

    ``top_reasons`` lists up to three factor ids, ``;``-joined; the score has 4 decimals and the
    effort index 1.
    """
    s = stored.document.get("summary", {})
    reasons = stored.document.get("churn_risk", {}).get("reasons", [])
    return {
        "customer_id": stored.customer_id,
        "churn_score": round(stored.churn_score, 4),
        "churn_level": stored.churn_level,
        "churn_model_version": stored.churn_model_version,
        "top_reason": stored.top_reason,
        "top_reasons": ";".join(r["factor"] for r in reasons[:3]),
        "top_reason_label": factor_label(stored.top_reason) if stored.top_reason else None,
        "call_count": stored.call_count,
        "first_contact": iso(stored.first_contact),
        "last_contact": iso(stored.last_contact),
        "contacts_30d": s.get("contacts_30d"),
        "repeat_contact_rate": s.get("repeat_contact_rate"),
        "open_issues": len(s.get("open_issues", [])),
        "effort_index": None if stored.effort_index is None else round(stored.effort_index, 1),
        "sentiment_trend": s.get("sentiment_trend"),
        "computed_at": iso(stored.computed_at),
    }


def export_customers(session: Session) -> Iterator[dict[str, Any]]:
    """Every customer summary as a flat row, highest churn score first (``koe customers export``).

    Rows stream from the database (the session must stay open while iterating).
    """
    for stored in iter_summaries(session):
        yield export_row(stored)
