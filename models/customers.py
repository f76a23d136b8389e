"""Customer summaries (``customer_summaries``): store assessments and read them back.

An assessment is stored with indexed columns for ranking (``churn_score``, ``churn_level``,
``last_contact``, ``effort_index``, ``top_reason``, ``churn_model_version``) and the whole summary,
risk and brief as one JSON document, so every read here is one indexed row lookup or one index
range scan. The API's shapes and Japanese labels are ``api.presenters``'.

Write functions only add and flush; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from insights.assess import CustomerAssessment, assess_customer
from insights.churn import ChurnWeights
from insights.records import ChurnRisk, jsonable
from koe.errors import InputError, NotFoundError
from models.call_facts import chunks, load_call_facts
from models.churn_model import current_churn_model
from models.cursors import decode_cursor, encode_cursor
from models.json_values import iso
from models.tables import Customer, CustomerSummaryRow

#: Newest calls kept in a stored summary's timeline.
TIMELINE_CALLS = 200

Order = Literal["churn_risk", "last_contact"]


@dataclass(frozen=True, slots=True)
class RiskChange:
    """A stored assessment's churn level before and after a refresh (``previous`` is ``None`` when new)."""

    customer_id: str
    previous_level: str | None
    risk: ChurnRisk


@dataclass(frozen=True, slots=True)
class RankedCustomer:
    """One customer of the ranking: the indexed columns of their stored summary (times in UTC)."""

    customer_id: str
    churn_score: float
    churn_level: str
    churn_model_version: str
    top_reason: str | None
    call_count: int
    last_contact: datetime | None
    effort_index: float | None
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """A customer's stored summary: the indexed columns and the ``{summary, churn_risk, brief}`` document."""

    customer_id: str
    churn_score: float
    churn_level: str
    churn_model_version: str
    top_reason: str | None
    call_count: int
    first_contact: datetime | None
    last_contact: datetime | None
    effort_index: float | None
    computed_at: datetime
    document: dict[str, Any]


def _document(assessment: CustomerAssessment) -> dict[str, Any]:
    summary = jsonable(assessment.summary)
    summary["timeline"] = summary["timeline"][-TIMELINE_CALLS:]
    return {"summary": summary, "churn_risk": jsonable(assessment.risk), "brief": jsonable(assessment.brief)}


def save_assessments(session: Session, assessments: Sequence[CustomerAssessment]) -> list[RiskChange]:
    """Insert or update the summary rows of ``assessments`` (adds and flushes only).

    Returns:
        Each customer's churn level change, in the order of ``assessments``.

    """
    ids = [a.summary.customer_id for a in assessments]
    existing: dict[str, CustomerSummaryRow] = {}
    for chunk in chunks(ids):
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
        row.computed_at = summary.computed_at
        row.call_count = summary.call_count
        row.first_contact = summary.first_contact
        row.last_contact = summary.last_contact
        row.effort_index = summary.effort_index
        row.churn_score = risk.score
        row.churn_level = risk.level
        row.churn_model_version = risk.model_version
        row.top_reason = risk.top_reason
        row.summary = _document(assessment)
    session.flush()
    return changes


def refresh_summaries(
    session: Session, customer_ids: Sequence[str], *, now: datetime, weights: ChurnWeights | None = None
) -> list[RiskChange]:
    """Recompute and store the summaries and churn risk of ``customer_ids``.

    Args:
        session: Open session (the caller commits).
        customer_ids: The customers to refresh.
        now: The moment the summaries describe (timezone-aware).
        weights: Default-score configuration, used when no trained churn model is current.

    Returns:
        Each customer's churn level change.

    """
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


# The customer pages need only the stored document. A Core query on the session's connection skips
# the ORM's identity map, instance state and the other ten columns' conversions: about 40% of a
# lookup, measured on SQLite (0.9 vs 1.6 ms per request-sized transaction).
_SUMMARY_DOC = select(CustomerSummaryRow.summary).where(CustomerSummaryRow.customer_id == bindparam("customer_id"))


def summary_document(session: Session, customer_id: str) -> dict[str, Any]:
    """The stored ``{summary, churn_risk, brief}`` document of a customer, computed if not stored yet.

    A known customer not summarised yet (no refresh since their calls) is assessed now, unsaved.

    Raises:
        NotFoundError: for an unknown customer.

    """
    doc = session.connection().execute(_SUMMARY_DOC, {"customer_id": customer_id}).scalar_one_or_none()
    if doc is not None:
        return dict(doc)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError(f"customer {customer_id!r} not found; list customers with GET /customers")
    facts = load_call_facts(session, [customer_id])
    assessment = assess_customer(
        customer_id, facts[customer_id], now=datetime.now(UTC), model=current_churn_model(session)
    )
    return _document(assessment)


_RANKING_COLUMNS = (
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


def rank_customers(
    session: Session,
    *,
    order: Order = "churn_risk",
    level: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[RankedCustomer], str | None]:
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
        The customers and the cursor of the next page (``None`` on the last page).

    Raises:
        InputError: for a malformed cursor or an unknown order.

    """
    t = CustomerSummaryRow
    # The list shows a few plain columns: loading (and JSON-decoding) every summary document, or
    # building ORM objects, would be most of the cost of a page.
    query = select(*_RANKING_COLUMNS)
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
    rows = session.execute(query.limit(limit + 1)).tuples().all()
    more, page = len(rows) > limit, [RankedCustomer(*row) for row in rows[:limit]]
    if not more or not page:
        return page, None
    last = page[-1]
    key = last.churn_score if order == "churn_risk" else iso(last.last_contact)
    return page, encode_cursor(key, last.customer_id)


def iter_summaries(session: Session) -> Iterator[StoredSummary]:
    """Every stored customer summary, highest churn score first (``koe customers export``).

    Rows stream from the database, 500 at a time: the session must stay open while iterating.
    """
    t = CustomerSummaryRow
    query = select(t).order_by(t.churn_score.desc(), t.customer_id).execution_options(yield_per=500)
    for row in session.scalars(query):
        yield StoredSummary(
            customer_id=row.customer_id,
            churn_score=row.churn_score,
            churn_level=row.churn_level,
            churn_model_version=row.churn_model_version,
            top_reason=row.top_reason,
            call_count=row.call_count,
            first_contact=row.first_contact,
            last_contact=row.last_contact,
            effort_index=row.effort_index,
            computed_at=row.computed_at,
            document=row.summary,
        )


def risk_table(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The ``limit`` customers with the highest churn score, with level and top reason."""
    rows = session.execute(
        select(
            CustomerSummaryRow.customer_id,
            CustomerSummaryRow.churn_score,
            CustomerSummaryRow.churn_level,
            CustomerSummaryRow.top_reason,
            CustomerSummaryRow.call_count,
            CustomerSummaryRow.last_contact,
        )
        .order_by(CustomerSummaryRow.churn_score.desc(), CustomerSummaryRow.customer_id)
        .limit(limit)
    )
    return [
        {
            "customer_id": customer_id,
            "churn_score": round(score, 3),
            "level": level,
            "top_reason": reason or "",
            "calls": calls,
            "last_contact": iso(last),
        }
        for customer_id, score, level, reason, calls, last in rows
    ]
