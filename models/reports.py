"""Reports and lists the API and the Prefect artifacts read: calls, topics, agents, risk.

One source of truth: ``GET /calls``, ``GET /reports/topics`` and ``GET /reports/agents`` return
these functions' dicts, and the flows publish :func:`topic_report_markdown` and :func:`risk_table`.
Every text here is redacted. Aggregates run as ``GROUP BY`` in the database over indexed columns
(``calls.started_at``, ``call_topics`` and ``tags`` by call); the API caches the aggregate reports.

Definitions used by the topic report:

- *volume*: calls assigned to the topic (a call may belong to several topics, weight >= 0.1);
- *share*: the topic's summed weight over all calls with a topic, so shares add up to 1;
- *effort rate*: share of the topic's calls carrying at least one effort tag (:data:`koe.taxonomy.DO_TAGS`);
  the mean effort index (0-100) is reported next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from koe.errors import InputError, NotFoundError
from koe.taxonomy import DO_TAGS
from models.cursors import decode_cursor, encode_cursor
from models.reads import iso
from models.tables import (
    Call,
    CallMetricsRow,
    CallTopicRow,
    CustomerSummaryRow,
    PipelineRun,
    TagRow,
    TopicRow,
)

Granularity = Literal["day", "week", "month"]

TOP_TAGS_PER_TOPIC = 5


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


# --- calls list (keyset pagination) ------------------------------------------------------------


def _call_filters(
    *,
    customer_id: str | None,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    topic_id: int | None,
    tag: str | None,
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if customer_id is not None:
        filters.append(Call.customer_id == customer_id)
    if agent_id is not None:
        filters.append(Call.agent_id == agent_id)
    if since is not None:
        filters.append(Call.started_at >= since)
    if until is not None:
        filters.append(Call.started_at < until)
    if topic_id is not None:
        filters.append(
            select(CallTopicRow.call_pk)
            .where(CallTopicRow.topic_id == topic_id, CallTopicRow.call_pk == Call.id)
            .exists()
        )
    if tag is not None:
        filters.append(select(TagRow.id).where(TagRow.tag == tag, TagRow.call_pk == Call.id).exists())
    return filters


def list_calls(
    session: Session,
    *,
    customer_id: str | None = None,
    agent_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    topic_id: int | None = None,
    tag: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Calls newest first (keyset on ``(started_at, id)``), then calls with no start time.

    Args:
        session: Open session.
        customer_id: Only this customer's calls.
        agent_id: Only this agent's calls.
        since: Calls that started at or after this instant.
        until: Calls that started before this instant.
        topic_id: Only calls assigned to this topic.
        tag: Only calls carrying this tag.
        limit: Page size (1-200).
        cursor: ``next_cursor`` of the previous page.

    Returns:
        The page of call summaries and the cursor of the next page (``None`` on the last page).

    Raises:
        InputError: for a malformed cursor.

    """
    filters = _call_filters(
        customer_id=customer_id, agent_id=agent_id, since=since, until=until, topic_id=topic_id, tag=tag
    )
    after_t, after_id = decode_cursor(cursor, "time", "id") if cursor else (None, None)
    rows: list[Call] = []
    timed: Select[tuple[Call]] = select(Call).where(*filters, Call.started_at.is_not(None))
    if after_id is None or after_t is not None:
        if after_t is not None and after_id is not None:
            timed = timed.where(
                or_(Call.started_at < after_t, and_(Call.started_at == after_t, Call.id < after_id))
            )
        rows = list(session.scalars(timed.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1)))
    # Calls without a start time (imports that did not say) come after every dated call, by id.
    if len(rows) <= limit and since is None and until is None:
        undated = select(Call).where(*filters, Call.started_at.is_(None))
        if after_t is None and after_id is not None:
            undated = undated.where(Call.id < after_id)
        rows += list(session.scalars(undated.order_by(Call.id.desc()).limit(limit + 1 - len(rows))))
    page, more = rows[:limit], len(rows) > limit
    tags = _tags_by_call(session, [row.id for row in page])
    items = [_call_summary(row, tags.get(row.id, [])) for row in page]
    next_cursor = encode_cursor(page[-1].started_at, page[-1].id) if more and page else None
    return items, next_cursor


def _tags_by_call(session: Session, pks: list[int]) -> dict[int, list[str]]:
    if not pks:
        return {}
    found: dict[int, list[str]] = {}
    for pk, tag in session.execute(select(TagRow.call_pk, TagRow.tag).where(TagRow.call_pk.in_(pks)).distinct()):
        found.setdefault(pk, []).append(tag)
    return {pk: sorted(tags) for pk, tags in found.items()}


def _call_summary(row: Call, tags: list[str]) -> dict[str, Any]:
    return {
        "call_id": row.call_id,
        "customer_id": row.customer_id,
        "agent_id": row.agent_id,
        "started_at": iso(row.started_at),
        "duration_s": _r(row.duration_s),
        "status": row.status,
        "effort_index": _r(row.effort_index, 1),
        "customer_sentiment": _r(row.customer_sentiment),
        "trajectory": row.trajectory,
        "tags": tags,
    }


# --- topic report ------------------------------------------------------------------------------


def _period(session: Session, granularity: Granularity) -> ColumnElement[str]:
    """SQL text ``YYYY-MM-DD`` of the first day of the period (weeks start on Monday)."""
    column = Call.started_at
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.date_trunc(granularity, column), "YYYY-MM-DD")
    if granularity == "day":
        return func.date(column)
    if granularity == "week":
        # SQLite: 'weekday 0' moves to the next Sunday (or stays), -6 days lands on that week's Monday.
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def _done_in_range(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Call.status == "done"]
    if since is not None:
        filters.append(Call.started_at >= since)
    if until is not None:
        filters.append(Call.started_at < until)
    return filters


def topic_report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    granularity: Granularity = "week",
) -> dict[str, Any]:
    """Per topic: volume, share, trend per period, sentiment, effort, top tags and quotes.

    Args:
        session: Open session.
        since: Calls that started at or after this instant (default: all history).
        until: Calls that started before this instant.
        granularity: Length of a trend period: ``day``, ``week`` (Monday first) or ``month``.

    Returns:
        ``{since, until, granularity, total_calls, calls_with_topic, periods, topics:[...]}``; topics
        sorted by volume, largest first. Sentiment is the mean customer score in [-1, 1], effort the
        mean effort index 0-100 and ``effort_rate`` the share (0-1) of calls with an effort tag.

    """
    if granularity not in ("day", "week", "month"):
        raise InputError("granularity: must be day, week or month")
    where = _done_in_range(since, until)
    total = session.scalar(select(func.count()).select_from(Call).where(*where)) or 0
    joined = select().select_from(CallTopicRow).join(Call, Call.id == CallTopicRow.call_pk).where(*where)
    stats = session.execute(
        joined.add_columns(
            CallTopicRow.topic_id,
            func.count(),
            func.sum(CallTopicRow.weight),
            func.avg(Call.customer_sentiment),
            func.avg(Call.effort_index),
        ).group_by(CallTopicRow.topic_id)
    ).all()
    with_topic = session.scalar(
        select(func.count(func.distinct(CallTopicRow.call_pk))).join(Call, Call.id == CallTopicRow.call_pk).where(*where)
    ) or 0
    period = _period(session, granularity).label("period")
    trend: dict[int, dict[str, int]] = {}
    for topic_id, bucket, count in session.execute(
        joined.add_columns(CallTopicRow.topic_id, period, func.count()).group_by(CallTopicRow.topic_id, literal_column("period"))
    ):
        trend.setdefault(topic_id, {})[str(bucket)] = int(count)
    tagged = select().select_from(CallTopicRow).join(Call, Call.id == CallTopicRow.call_pk)
    tagged = tagged.join(TagRow, TagRow.call_pk == CallTopicRow.call_pk).where(*where)
    effort_calls = dict(
        session.execute(
            tagged.add_columns(CallTopicRow.topic_id, func.count(func.distinct(CallTopicRow.call_pk)))
            .where(TagRow.tag.in_(DO_TAGS))
            .group_by(CallTopicRow.topic_id)
        )
        .tuples()
        .all()
    )
    top_tags: dict[int, list[dict[str, Any]]] = {}
    for topic_id, tag, count in session.execute(
        tagged.add_columns(CallTopicRow.topic_id, TagRow.tag, func.count(func.distinct(TagRow.call_pk))).group_by(
            CallTopicRow.topic_id, TagRow.tag
        )
    ):
        top_tags.setdefault(topic_id, []).append({"tag": tag, "calls": int(count)})
    topics = {row.id: row for row in session.scalars(select(TopicRow))}
    weight_total = sum(float(row[2] or 0) for row in stats) or 1.0
    periods = sorted({bucket for buckets in trend.values() for bucket in buckets})
    items = []
    for topic_id, volume, weight, sentiment, effort in stats:
        topic = topics.get(topic_id)
        items.append(
            {
                "topic_id": topic_id,
                "label": topic.label if topic else f"topic {topic_id}",
                "top_terms": list(topic.top_terms)[:8] if topic else [],
                "volume": int(volume),
                "share": round(float(weight or 0) / weight_total, 4),
                "trend": [{"period": p, "calls": trend.get(topic_id, {}).get(p, 0)} for p in periods],
                "customer_sentiment": _r(sentiment),
                "effort_index": _r(effort, 1),
                "effort_rate": round(effort_calls.get(topic_id, 0) / volume, 4) if volume else 0.0,
                "top_tags": sorted(top_tags.get(topic_id, []), key=lambda t: (-t["calls"], t["tag"]))[:TOP_TAGS_PER_TOPIC],
                "quotes": [
                    {"call_id": q.get("call_id"), "start_s": q.get("start_s"), "text": q.get("text", "")}
                    for q in (topic.quotes if topic else [])
                ],
            }
        )
    items.sort(key=lambda item: (-item["volume"], item["topic_id"]))
    return {
        "since": iso(since),
        "until": iso(until),
        "granularity": granularity,
        "total_calls": int(total),
        "calls_with_topic": int(with_topic),
        "periods": periods,
        "topics": items,
    }


# --- agent report ------------------------------------------------------------------------------


def agent_report(session: Session, *, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Per agent: calls, mean talk ratio, silence, overtalk, hold and customer effort.

    Returns:
        ``{since, until, agents:[{agent_id, calls, talk_ratio_agent (0-1), silence_s (mean seconds
        per call), silence_count, overtalk_count, overtalk_s, hold_count, hold_s, effort_index
        (0-100), customer_sentiment ([-1, 1])}]}``, busiest agent first.

    """
    where = [*_done_in_range(since, until), Call.agent_id.is_not(None)]
    rows = session.execute(
        select(
            Call.agent_id,
            func.count(),
            func.avg(CallMetricsRow.talk_ratio_agent),
            func.avg(CallMetricsRow.silence_s),
            func.avg(CallMetricsRow.silence_count),
            func.avg(CallMetricsRow.overtalk_count),
            func.avg(CallMetricsRow.overtalk_s),
            func.avg(CallMetricsRow.hold_count),
            func.avg(CallMetricsRow.hold_s),
            func.avg(Call.effort_index),
            func.avg(Call.customer_sentiment),
        )
        .outerjoin(CallMetricsRow, CallMetricsRow.call_pk == Call.id)
        .where(*where)
        .group_by(Call.agent_id)
    ).all()
    agents = [
        {
            "agent_id": agent_id,
            "calls": int(calls),
            "talk_ratio_agent": _r(talk),
            "silence_s": _r(silence_s, 2),
            "silence_count": _r(silence_n, 2),
            "overtalk_count": _r(over_n, 2),
            "overtalk_s": _r(over_s, 2),
            "hold_count": _r(hold_n, 2),
            "hold_s": _r(hold_s, 2),
            "effort_index": _r(effort, 1),
            "customer_sentiment": _r(sentiment),
        }
        for agent_id, calls, talk, silence_s, silence_n, over_n, over_s, hold_n, hold_s, effort, sentiment in rows
    ]
    agents.sort(key=lambda a: (-a["calls"], a["agent_id"]))
    return {"since": iso(since), "until": iso(until), "agents": agents}


# --- Prefect artifacts -------------------------------------------------------------------------


def topic_report_markdown(session: Session) -> str:
    """The whole-history topic report as Markdown (redacted quotes only), for a Prefect artifact."""
    report = topic_report(session, granularity="month")
    lines = [
        "# koe topic report",
        "",
        f"{report['total_calls']} processed calls, {report['calls_with_topic']} with a topic.",
        "",
        "| topic | calls | share | customer sentiment | effort index | effort rate | top tags |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for topic in report["topics"]:
        tags = ", ".join(f"{t['tag']} ({t['calls']})" for t in topic["top_tags"]) or "-"
        label = str(topic["label"]).replace("|", "/")
        lines.append(
            f"| {label} | {topic['volume']} | {topic['share']:.0%} | {_fmt(topic['customer_sentiment'])} "
            f"| {_fmt(topic['effort_index'])} | {topic['effort_rate']:.0%} | {tags} |"
        )
    if not report["topics"]:
        lines.append("| (no topics yet) | 0 | - | - | - | - | - |")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


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


# --- recordings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingLocation:
    """Where a call's audio may be: koe's copy, the original file, and the folder it was ingested from."""

    recording_path: str | None
    source_path: str
    source_root: str | None


def recording_location(session: Session, call_id: str) -> RecordingLocation:
    """The recording paths of ``call_id`` (the caller checks they lie inside allowed folders).

    Raises:
        NotFoundError: when there is no such call.

    """
    row = session.execute(
        select(Call.recording_path, Call.source_path, PipelineRun.parameters)
        .outerjoin(PipelineRun, PipelineRun.id == Call.run_id)
        .where(Call.call_id == call_id)
    ).first()
    if row is None:
        raise NotFoundError(f"call {call_id!r} not found; list calls with GET /calls")
    recording, source, parameters = row
    root = (parameters or {}).get("source") if isinstance(parameters, dict) else None
    return RecordingLocation(recording, source or "", str(root) if root else None)
